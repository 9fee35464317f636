/**
 * Anti-entropy: the periodic repair that makes replicas converge whatever gossip, background
 * replication, hints and hand-off missed (Dynamo §4.7; Riak's active anti-entropy with tictac trees).
 *
 * One exchange compares one namespace with one co-replica B chosen at random among the peers that share
 * arcs with this peer, in three steps, each sending only what differs:
 * 1. `ae-roots`: the roots of the arcs both replicate; B answers with its leaves of the arcs whose root
 *    differs (or `ring-mismatch` when its ring is not ours: ownership would not line up; views converge
 *    first, then the next round compares).
 * 2. `ae-sync`: for the leaves that differ, this peer's (key, version, tombstone) list; B answers with
 *    its entries that are newer or that this peer lacks, and the keys it wants (newer here or missing
 *    there). Tombstones older than the grace period are left out on both sides: they may already be
 *    collected on one side, and sending them back would resurrect them forever.
 * 3. This peer applies B's entries (last-writer-wins) and writes the wanted ones to B (`repair`).
 * At most `antiEntropyMaxKeys` keys per exchange; the rest in the next rounds. A round exchanges with
 * `antiEntropyPeersPerRound` co-replicas, in round-robin order; one round in flight at a time.
 */
import type { StoreEntry } from '../storage/store.js'
import type { Version } from '../storage/hlc.js'
import { callReplica } from './calls.js'
import type { CoordinatorHost } from './coordinator.js'
import type { NamespaceReplica } from './replica.js'
import { agedTombstone } from './replica.js'
import { entriesInBuckets } from './replica-service.js'

export class AntiEntropy {
  readonly #host: CoordinatorHost
  #inFlight = 0
  #nextNamespace = 0
  /** Per namespace, where the round-robin over co-replicas stands. */
  readonly #cursor = new WeakMap<NamespaceReplica, number>()

  constructor (host: CoordinatorHost) { this.#host = host }

  get busy (): boolean { return this.#inFlight > 0 }

  /**
   * Starts exchanges for the next namespace (round robin) with the next `antiEntropyPeersPerRound`
   * co-replicas (round robin over the sorted list, so every pair meets within a bounded number of
   * rounds, however unlucky a random choice would be), unless the previous round is still in flight.
   */
  round (namespaces: readonly NamespaceReplica[], done: () => void = () => {}): void {
    if (this.#inFlight > 0 || namespaces.length === 0) { done(); return }
    const ns = namespaces[this.#nextNamespace++ % namespaces.length]
    const partners = coReplicas(this.#host, ns)
    if (partners.size === 0) { done(); return }
    const sorted = [...partners.keys()].sort()
    const k = Math.min(sorted.length, this.#host.ctx.config.antiEntropyPeersPerRound)
    const start = (this.#cursor.get(ns) ?? this.#host.ctx.random.int(sorted.length)) % sorted.length
    this.#cursor.set(ns, start + k)
    let left = k
    for (let i = 0; i < k; i++) {
      const peer = sorted[(start + i) % sorted.length]
      this.#exchange(ns, peer, partners.get(peer)!, () => { if (--left === 0) done() })
    }
  }

  /** One exchange of `ns` with one co-replica chosen at random (tests and tools). */
  exchange (ns: NamespaceReplica, done: () => void = () => {}): void {
    const partners = coReplicas(this.#host, ns)
    const peer = this.#host.ctx.random.pick([...partners.keys()].sort())
    if (peer === undefined) { done(); return }
    this.#exchange(ns, peer, partners.get(peer)!, done)
  }

  #exchange (ns: NamespaceReplica, peer: string, arcIndexes: number[], done: () => void): void {
    const host = this.#host
    const ctx = host.ctx
    const d = ns.digests()
    this.#inFlight++
    ctx.counters.antiEntropyRounds++
    const finish = (): void => { this.#inFlight--; done() }
    const ring = ns.ring.checksum()
    const roots = arcIndexes.map((i) => ({ end: d.arcs.arc(i).end, ...d.root(i) }))
    callReplica(host, peer, { type: 'ae-roots', ns: ns.name, ring, roots }, (a) => {
      if (a.kind !== 'reply' || a.reply.type !== 'ae-leaves' || ns.ring.checksum() !== ring) {
        if (a.kind === 'reply' && a.reply.type === 'status' && a.reply.status === 'ring-mismatch') ctx.counters.antiEntropyRingMismatch++
        finish()
        return
      }
      const buckets: Array<{ end: number, leaf: number }> = []
      const dNow = ns.digests()
      for (const arc of a.reply.arcs) {
        const i = dNow.arcs.indexOf(arc.end)
        if (i < 0 || dNow.arcs.arc(i).end !== arc.end) continue
        ctx.counters.antiEntropyArcsDiffering++
        for (const leaf of dNow.differingLeaves(i, arc.lanes)) buckets.push({ end: arc.end, leaf })
      }
      if (buckets.length === 0) { finish(); return }
      const now = ctx.clock.now()
      const mine = entriesInBuckets(ns, buckets)
      const digests: Array<{ key: string, version: Version, tombstone: boolean }> = []
      for (const e of mine.values()) {
        if (digests.length >= ctx.config.antiEntropyMaxKeys) break
        if (agedTombstone(e, now, ctx.config.tombstoneGraceMs)) continue
        digests.push({ key: e.key, version: e.version, tombstone: e.value === null })
      }
      callReplica(host, peer, { type: 'ae-sync', ns: ns.name, ring, buckets, digests }, (b) => {
        if (b.kind !== 'reply' || b.reply.type !== 'ae-sync-reply') { finish(); return }
        for (const e of b.reply.entries) {
          try {
            if (ns.owns(ns.point(e.key)) && ns.applyEntry(e) !== 'stale') ctx.counters.antiEntropyEntriesPulled++
          } catch (err) {
            ctx.warnOnce(`ae:${ns.name}`, 'an anti-entropy entry could not be stored; skipped', { ns: ns.name, error: String(err) })
          }
        }
        const wanted: StoreEntry[] = []
        for (const key of b.reply.wants) {
          const e = mine.get(key) ?? ns.store.getEntry(key)
          if (e !== undefined) wanted.push(e)
        }
        for (const e of wanted) {
          ctx.counters.antiEntropyEntriesPushed++
          callReplica(host, peer, { type: 'write', ns: ns.name, entry: e, purpose: 'repair' }, () => {})
        }
        finish()
      })
    })
  }
}

/** The live peers sharing arcs with this peer in `ns`, each with the indexes of the shared arcs. */
function coReplicas (host: CoordinatorHost, ns: NamespaceReplica): Map<string, number[]> {
  const ctx = host.ctx
  const d = ns.digests()
  const peers = new Map<string, number[]>()
  for (let i = 0; i < d.arcs.size; i++) {
    for (const r of ns.replicasAt(d.arcs.arc(i).end)) {
      if (r === ctx.self || !ctx.isLive(r)) continue
      let list = peers.get(r)
      if (list === undefined) { list = []; peers.set(r, list) }
      list.push(i)
    }
  }
  return peers
}
