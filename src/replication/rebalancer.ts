/**
 * Rebalancing: moving data when the ring changes (a peer joins, leaves, dies, or a partition heals).
 *
 * Two halves, each owned by the peer whose role changed (Dynamo's hand-off of key ranges, Riak's
 * ownership hand-off):
 * - **Gained arcs are pulled.** For every sub-arc this peer now replicates and did not before, it pulls
 *   the arc's entries from the arc's previous replicas that are alive in its view (all of them, so that
 *   every write acknowledged by any write quorum of the old replica set reaches the new replica), or —
 *   after a restart with nothing, when the old ring knew no other peer — from the arc's other new
 *   replicas. Transfers are pull-based chunks in (point, key) order with a cursor: the puller's pace is
 *   the back-pressure, at most `maxConcurrentTransfers` run at once, and a failed chunk is asked again
 *   from its cursor (resumable), `transferAttempts` times. Until an arc's transfers are over, reads of it
 *   also ask the sources (replica.ts, "moving in").
 * - **Keys no longer owned are handed off, then dropped.** A while after a ring change
 *   (`handoffDelayMs`, so views settle), a pass over the store finds the entries this peer holds but no
 *   longer replicates, sends each to every replica of its key in the current view, and forgets it only
 *   once all of them acknowledged it (or hold something newer). Whatever could not be confirmed is kept
 *   and tried again every `handoffRetryMs`. `leave()` uses the same pass with a ring without this peer.
 *
 * Invariants: an entry is forgotten only after every replica in the current view acknowledged it (the
 * same version or a newer one), and only if it is still not owned and unchanged; a transfer applies
 * entries under last-writer-wins, so a late or repeated chunk never overwrites newer data.
 */
import type { HashRing } from '../ring/hash-ring.js'
import { compareVersions } from '../storage/hlc.js'
import type { StoreEntry } from '../storage/store.js'
import type { RangeCursor } from '../wire/replication.js'
import { callReplica } from './calls.js'
import type { CoordinatorHost } from './coordinator.js'
import { rangeChanges, type Arc } from './ranges.js'
import { agedTombstone, type NamespaceReplica } from './replica.js'

interface Transfer {
  ns: NamespaceReplica
  source: string
  arcs: Arc[]
  cursor: RangeCursor | undefined
  attempts: number
}

/** Most entries handed off in one pass of one namespace (the rest in the next pass). */
const MAX_HANDOFF_PER_PASS = 8192

export class Rebalancer {
  readonly #host: CoordinatorHost
  readonly #queue: Transfer[] = []
  readonly #running = new Set<Transfer>()
  /** Namespaces with a hand-off pass scheduled or running. */
  readonly #handoffs = new Map<NamespaceReplica, 'scheduled' | 'running'>()
  /** Hand-off passes that have entries left to confirm (see `pendingHandoffs`). */
  readonly #unconfirmed = new Set<NamespaceReplica>()
  /** Namespaces whose ring changed while a pass ran: they get another pass. */
  readonly #rerun = new Set<NamespaceReplica>()

  constructor (host: CoordinatorHost) { this.#host = host }

  get transfersQueued (): number { return this.#queue.length }
  get transfersRunning (): number { return this.#running.size }
  /** Namespaces whose last hand-off pass left entries it could not confirm. */
  get pendingHandoffs (): number { return new Set([...this.#unconfirmed, ...this.#handoffs.keys()]).size }

  /** True when nothing is moving: no transfer queued or running, no hand-off pending. */
  get idle (): boolean { return this.#queue.length === 0 && this.#running.size === 0 && this.#handoffs.size === 0 && this.#unconfirmed.size === 0 }

  /** The ring of `ns` went from `before` to `after` (already set on `ns`). */
  ringChanged (ns: NamespaceReplica, before: HashRing, after: HashRing): void {
    const ctx = this.#host.ctx
    const self = ctx.self
    const { gained, lost } = rangeChanges(before, after, self, ns.def.replicas)
    const bySource = new Map<string, Arc[]>()
    const othersBefore = before.peers().some((p) => p !== self)
    for (const change of gained) {
      const candidates = (othersBefore ? change.before : change.after).filter((p) => p !== self && ctx.isLive(p))
      if (candidates.length === 0) continue
      ns.addIncoming([change], candidates)
      for (const source of candidates) {
        let arcs = bySource.get(source)
        if (arcs === undefined) { arcs = []; bySource.set(source, arcs) }
        arcs.push({ start: change.start, end: change.end })
      }
    }
    for (const [source, arcs] of bySource) this.#enqueue({ ns, source, arcs, cursor: undefined, attempts: 0 })
    if (lost.length > 0 || this.#unconfirmed.has(ns)) this.scheduleHandoff(ns, ctx.config.handoffDelayMs)
  }

  /** Forgets everything queued (the peer stops); running transfers end at their next reply. */
  stop (): void {
    this.#queue.length = 0
    this.#rerun.clear()
    this.#handoffs.clear()
    this.#unconfirmed.clear()
  }

  // ------------------------------------------------------------------------------------ transfers

  #enqueue (t: Transfer): void {
    // one transfer per (namespace, source) queued: merge arcs into a queued one
    const queued = this.#queue.find((q) => q.ns === t.ns && q.source === t.source)
    if (queued !== undefined) { queued.arcs.push(...t.arcs); return }
    this.#queue.push(t)
    this.#pump()
  }

  #pump (): void {
    const ctx = this.#host.ctx
    while (!ctx.stopped && this.#running.size < ctx.config.maxConcurrentTransfers && this.#queue.length > 0) {
      const t = this.#queue.shift()!
      this.#running.add(t)
      ctx.counters.transfersStarted++
      this.#pull(t)
    }
  }

  #end (t: Transfer, ok: boolean): void {
    const ctx = this.#host.ctx
    this.#running.delete(t)
    t.ns.sourceFinished(t.source, t.arcs)
    if (ok) ctx.counters.transfersCompleted++; else ctx.counters.transfersFailed++
    this.#pump()
  }

  #pull (t: Transfer): void {
    const host = this.#host
    const ctx = host.ctx
    if (ctx.stopped) { this.#running.delete(t); return }
    const item = { type: 'range-pull' as const, ns: t.ns.name, arcs: t.arcs, maxEntries: ctx.config.transferChunkEntries, ...(t.cursor !== undefined ? { after: t.cursor } : {}) }
    callReplica(host, t.source, item, (a) => {
      if (ctx.stopped) { this.#running.delete(t); return }
      if (a.kind === 'reply' && a.reply.type === 'range-chunk') {
        t.attempts = 0
        for (const e of a.reply.entries) {
          try {
            t.ns.applyEntry(e)
            ctx.counters.entriesPulled++
          } catch (err) {
            ctx.warnOnce(`pull:${t.ns.name}`, 'a transferred entry could not be stored; skipped', { ns: t.ns.name, key: e.key, error: String(err) })
          }
        }
        if (a.reply.next === undefined) { this.#end(t, true); return }
        t.cursor = a.reply.next
        this.#pull(t)
        return
      }
      if (++t.attempts >= ctx.config.transferAttempts || !ctx.isLive(t.source)) { this.#end(t, false); return }
      ctx.clock.setTimer(ctx.config.requestTimeoutMs, () => this.#pull(t))
    })
  }

  // ------------------------------------------------------------------------------------ hand-off

  /** Runs a hand-off pass of `ns` in `delayMs` (unless one is already scheduled or running). */
  scheduleHandoff (ns: NamespaceReplica, delayMs: number): void {
    const state = this.#handoffs.get(ns)
    if (state === 'running') this.#rerun.add(ns)
    if (state !== undefined) return
    this.#handoffs.set(ns, 'scheduled')
    this.#host.ctx.clock.setTimer(delayMs, () => {
      if (this.#handoffs.get(ns) !== 'scheduled') return
      this.#handoff(ns, () => {})
    })
  }

  /** Runs a hand-off pass of `ns` now; `done(remaining)` with how many entries are still unconfirmed. */
  handoffNow (ns: NamespaceReplica, done: (remaining: number) => void): void {
    this.#handoff(ns, done)
  }

  #handoff (ns: NamespaceReplica, done: (remaining: number) => void): void {
    const host = this.#host
    const ctx = host.ctx
    if (ctx.stopped) { done(0); return }
    this.#handoffs.set(ns, 'running')
    ctx.counters.handoffRounds++
    const now = ctx.clock.now()
    const grace = ctx.config.tombstoneGraceMs
    const orphans: Array<{ entry: StoreEntry, targets: string[] }> = []
    let more = false
    const aged: string[] = []
    for (const e of ns.store.entries()) {
      const p = ns.point(e.key)
      if (ns.owns(p)) continue
      if (agedTombstone(e, now, grace)) { aged.push(e.key); continue }
      if (orphans.length >= MAX_HANDOFF_PER_PASS) { more = true; break }
      orphans.push({ entry: e, targets: ns.replicasAt(p).filter((r) => r !== ctx.self) })
    }
    for (const key of aged) if (ns.store.forget(key)) ctx.counters.keysForgotten++
    let left = orphans.length
    let unconfirmed = 0
    const finish = (): void => {
      this.#handoffs.delete(ns)
      if (this.#rerun.delete(ns)) {
        this.#unconfirmed.add(ns)
        this.scheduleHandoff(ns, ctx.config.handoffDelayMs)
      } else if (unconfirmed > 0 || more) {
        this.#unconfirmed.add(ns)
        this.scheduleHandoff(ns, more && unconfirmed === 0 ? 0 : ctx.config.handoffRetryMs)
      } else {
        this.#unconfirmed.delete(ns)
      }
      done(unconfirmed + (more ? 1 : 0))
    }
    if (left === 0) { finish(); return }
    for (const { entry, targets } of orphans) {
      if (targets.length === 0) { unconfirmed++; if (--left === 0) finish(); continue }
      let waiting = targets.length
      let confirmed = true
      for (const target of targets) {
        ctx.counters.handoffKeysPushed++
        callReplica(host, target, { type: 'write', ns: ns.name, entry, purpose: 'handoff' }, (a) => {
          if (a.kind !== 'reply' || a.reply.type !== 'status') confirmed = false
          if (--waiting > 0) return
          if (confirmed) this.#forgetIfUnchanged(ns, entry)
          else unconfirmed++
          if (--left === 0) finish()
        })
      }
    }
  }

  #forgetIfUnchanged (ns: NamespaceReplica, pushed: StoreEntry): void {
    const ctx = this.#host.ctx
    if (ns.owns(ns.point(pushed.key))) return
    const held = ns.store.getEntry(pushed.key)
    if (held === undefined || compareVersions(held.version, pushed.version) !== 0) return
    if (ns.store.forget(pushed.key)) ctx.counters.keysForgotten++
  }
}
