/**
 * Background replication for async namespaces, and hint delivery.
 *
 * After the primary applied a write it sends the entry to the other replicas with `purpose:
 * 'replicate'`; the driver coalesces everything sent to one peer in the same turn into one batch, so a
 * burst of writes costs one request per replica, not one per write. A replica that cannot be reached gets
 * a hint (hints.ts); a replica that answers `not-owner` names the owners in its view, which get the entry
 * instead (once: no chains).
 *
 * Hints are offered every `hintReplayIntervalMs` to targets that are alive in this peer's view, at most
 * `HINTS_PER_TARGET_PER_ROUND` at a time and one round per target in flight; a hint leaves the queue when
 * the target applied it (or held something newer), or refused it because it no longer owns the key (the
 * new owners got the data through rebalancing; anti-entropy covers the rest).
 */
import type { StoreEntry } from '../storage/store.js'
import { callReplica } from './calls.js'
import type { CoordinatorHost } from './coordinator.js'
import type { NamespaceReplica } from './replica.js'

const HINTS_PER_TARGET_PER_ROUND = 256

/** Sends an entry applied at the primary to the other replicas. */
export function replicateInBackground (host: CoordinatorHost, ns: NamespaceReplica, entry: StoreEntry, targets: readonly string[]): void {
  const ctx = host.ctx
  for (const target of targets) {
    ctx.counters.backgroundSent++
    callReplica(host, target, { type: 'write', ns: ns.name, entry, purpose: 'replicate' }, (a) => {
      if (a.kind === 'failed') {
        ctx.counters.backgroundFailed++
        if (a.reason !== 'remote-error') host.hints.add(target, ns.name, entry, ctx.clock.now())
      } else if (a.kind === 'not-owner') {
        for (const owner of a.owners) {
          if (owner === ctx.self || targets.includes(owner)) continue
          ctx.counters.reroutes++
          callReplica(host, owner, { type: 'write', ns: ns.name, entry, purpose: 'replicate' }, (b) => {
            if (b.kind === 'failed' && b.reason !== 'remote-error') host.hints.add(owner, ns.name, entry, ctx.clock.now())
          })
        }
      }
    })
  }
}

/** Offers hints to live targets; one round per target at a time. */
export class HintReplayer {
  readonly #host: CoordinatorHost
  readonly #busy = new Set<string>()

  constructor (host: CoordinatorHost) { this.#host = host }

  get busyTargets (): number { return this.#busy.size }

  round (): void {
    const host = this.#host
    const ctx = host.ctx
    host.hints.expire(ctx.clock.now())
    for (const target of host.hints.targets()) {
      if (this.#busy.has(target) || !ctx.isLive(target)) continue
      const batch = host.hints.peek(target, HINTS_PER_TARGET_PER_ROUND)
      if (batch.length === 0) continue
      this.#busy.add(target)
      let left = batch.length
      for (const hint of batch) {
        callReplica(host, target, { type: 'write', ns: hint.ns, entry: hint.entry, purpose: 'hint' }, (a) => {
          if (a.kind === 'reply') host.hints.settle(hint, 'delivered')
          else if (a.kind === 'not-owner') host.hints.settle(hint, 'refused')
          else if (a.kind === 'failed' && a.reason === 'remote-error') host.hints.settle(hint, 'refused')
          // anything else (unreachable, timeout, a target that does not know the namespace yet): kept for the next round
          if (--left === 0) this.#busy.delete(target)
        })
      }
    }
  }
}
