/**
 * The replica side of the protocol: what a peer does with request items that concern the data it holds
 * — reads, versioned writes, range transfers (as a source), anti-entropy comparisons, scans.
 *
 * Rules (each answer is one reply item; nothing here throws for bad input):
 * - `read` / `write` for a key this peer does not replicate in its view are refused with `not-owner` and
 *   the key's replicas as this peer sees them, so the sender re-routes (a stale ring never makes a peer
 *   accept a key it will drop). A `read` with `noProxy` is a raw read of whatever is held, answered by
 *   previous owners during rebalancing.
 * - A `read` of a key whose arc is still moving in also asks the sources it waits for and returns the
 *   newest version, which it keeps (read-through of a moving range: "reads also consult the previous
 *   owner").
 * - `write` applies under last-writer-wins and says `ok`, `replaced` (a live value was overwritten) or
 *   `stale` (a version at least as new was held).
 * - `range-pull` serves entries of the asked arcs in (point, key) order after a cursor, at most
 *   `maxEntries` a chunk: pull-based, so the puller's pace is the back-pressure, and resumable from the
 *   cursor after any failure.
 * - `ae-roots` / `ae-sync` compare digests only when both peers hold the same ring (same checksum).
 */
import type { StoreEntry } from '../storage/store.js'
import type { ReplyItem, RequestItem } from '../wire/replication.js'
import type { ReplicationContext } from './context.js'
import { ArcSet } from './ranges.js'
import { agedTombstone, newer, type NamespaceReplica } from './replica.js'

export type Respond = (reply: ReplyItem) => void

/** What the replica service needs from the engine. */
export interface ReplicaHost {
  readonly ctx: ReplicationContext
  namespace(name: string): NamespaceReplica | undefined
  /** A key this peer does not replicate in its view was stored (a hand-off): a hand-off pass must follow. */
  orphanAccepted(ns: NamespaceReplica): void
}

type ReplicaItem = Extract<RequestItem, { type: 'read' | 'write' | 'range-pull' | 'ae-roots' | 'ae-sync' | 'scan' }>

const UNKNOWN_NS: ReplyItem = { type: 'status', status: 'unknown-namespace' }

export function serveReplicaItem (host: ReplicaHost, from: string, item: ReplicaItem, respond: Respond): void {
  const ns = host.namespace(item.ns)
  const ctx = host.ctx
  if (ns === undefined) {
    ctx.counters.unknownNamespaceRefusals++
    respond(UNKNOWN_NS)
    return
  }
  switch (item.type) {
    case 'read': serveRead(host, ns, item, respond); break
    case 'write': serveWrite(host, from, ns, item, respond); break
    case 'range-pull': respond(serveRangePull(ns, item)); break
    case 'ae-roots': respond(serveRoots(ctx, ns, item)); break
    case 'ae-sync': respond(serveSync(ctx, ns, item)); break
    case 'scan': respond(serveScan(ctx, ns, item)); break
  }
}

function notOwner (ctx: ReplicationContext, ns: NamespaceReplica, point: number): ReplyItem {
  ctx.counters.notOwnerRefusals++
  return { type: 'status', status: 'not-owner', owners: ns.replicasAt(point) }
}

function entryReply (e: StoreEntry | undefined): ReplyItem {
  return e === undefined ? { type: 'status', status: 'not-found' } : { type: 'entry', entry: e }
}

function serveRead (host: ReplicaHost, ns: NamespaceReplica, item: Extract<RequestItem, { type: 'read' }>, respond: Respond): void {
  const ctx = host.ctx
  ctx.counters.replicaReads++
  if (item.noProxy) { respond(entryReply(ns.store.getEntry(item.key))); return }
  const p = ns.point(item.key)
  if (!ns.owns(p)) { respond(notOwner(ctx, ns, p)); return }
  readOwned(host, ns, item.key, p, (e) => respond(entryReply(e)))
}

/**
 * Reads a key this peer owns: its own copy, and while the key's arc is moving in, the newest of its copy
 * and the copies of the sources still transferring it (kept here when newer).
 */
export function readOwned (host: ReplicaHost, ns: NamespaceReplica, key: string, point: number, done: (e: StoreEntry | undefined) => void): void {
  const ctx = host.ctx
  let best = ns.readLocal(key)
  const pending = ns.pendingSources(point)
  if (pending === undefined || pending.size === 0) { done(best); return }
  ctx.counters.proxyReads++
  let waiting = pending.size
  const local = best
  for (const source of pending) {
    ctx.call(source, { type: 'read', ns: ns.name, key, noProxy: true }, (err, reply) => {
      if (err === null && reply?.type === 'entry') best = newer(best, reply.entry)
      if (--waiting > 0) return
      if (best !== undefined && best !== local) ns.applyEntry(best)
      done(best)
    })
  }
}

function serveWrite (host: ReplicaHost, from: string, ns: NamespaceReplica, item: Extract<RequestItem, { type: 'write' }>, respond: Respond): void {
  const ctx = host.ctx
  const p = ns.point(item.entry.key)
  if (!ns.owns(p)) {
    // A hand-off from a peer that routes without itself (it is leaving, or our view of it is behind):
    // we take the key if we would replicate it once that peer is gone, and hand it on ourselves if the
    // ring then says otherwise.
    if (item.purpose !== 'handoff' || !ns.ownsWithout(from, p)) { respond(notOwner(ctx, ns, p)); return }
    host.orphanAccepted(ns)
  }
  ctx.counters.replicaWrites++
  let status
  try {
    status = ns.applyEntry(item.entry)
  } catch (err) {
    // a value over this namespace's limits, an invalid version: refused, nothing stored
    const e = err as { code?: string, message?: string }
    respond({ type: 'error', code: e.code ?? 'ERR_INTERNAL', message: String(e.message ?? err) })
    return
  }
  if (status === 'stale') ctx.counters.replicaWritesStale++
  respond({ type: 'status', status })
}

/** Bytes of values a range chunk or a scan answer carries at most (replies must fit a 4 MiB frame). */
export const CHUNK_BYTES = 1024 * 1024

/** (point, key) order, the order of range transfers. */
function cursorLess (p1: number, k1: string, p2: number, k2: string): boolean {
  return p1 < p2 || (p1 === p2 && k1 < k2)
}

function serveRangePull (ns: NamespaceReplica, item: Extract<RequestItem, { type: 'range-pull' }>): ReplyItem {
  let arcs: ArcSet
  try {
    arcs = new ArcSet(item.arcs)
  } catch (err) {
    return { type: 'error', code: 'ERR_BAD_REQUEST', message: `range-pull: ${(err as Error).message}` }
  }
  const max = Math.max(1, Math.min(item.maxEntries, 4096))
  const after = item.after
  const found: Array<{ point: number, entry: StoreEntry }> = []
  for (const e of ns.store.entries()) {
    const p = ns.point(e.key)
    if (!arcs.has(p)) continue
    if (after !== undefined && !cursorLess(after.point, after.key, p, e.key)) continue
    found.push({ point: p, entry: e })
  }
  found.sort((a, b) => a.point - b.point || (a.entry.key < b.entry.key ? -1 : a.entry.key > b.entry.key ? 1 : 0))
  // a chunk holds at most `max` entries and about CHUNK_BYTES of values (at least one entry)
  let n = 0
  let bytes = 0
  while (n < found.length && n < max && (n === 0 || bytes + (found[n].entry.value?.byteLength ?? 0) <= CHUNK_BYTES)) {
    bytes += (found[n].entry.value?.byteLength ?? 0) + found[n].entry.key.length
    n++
  }
  const page = found.slice(0, n)
  const reply: ReplyItem = { type: 'range-chunk', entries: page.map((f) => f.entry) }
  if (found.length > n) {
    const last = page[page.length - 1]
    reply.next = { point: last.point, key: last.entry.key }
  }
  return reply
}

function serveRoots (ctx: ReplicationContext, ns: NamespaceReplica, item: Extract<RequestItem, { type: 'ae-roots' }>): ReplyItem {
  if (item.ring !== ns.ring.checksum()) { ctx.counters.antiEntropyRingMismatch++; return { type: 'status', status: 'ring-mismatch' } }
  const d = ns.digests()
  const arcs: Array<{ end: number, lanes: Uint32Array }> = []
  for (const r of item.roots) {
    const i = d.arcs.indexOf(r.end)
    if (i < 0 || d.arcs.arc(i).end !== r.end) continue
    const mine = d.root(i)
    if (mine.hi !== r.hi || mine.lo !== r.lo) arcs.push({ end: r.end, lanes: d.leaves(i) })
  }
  return { type: 'ae-leaves', arcs }
}

/** Keys of `ns` in the given (arc end, leaf) buckets, with their entries (expired ones excluded). */
export function entriesInBuckets (ns: NamespaceReplica, buckets: ReadonlyArray<{ end: number, leaf: number }>): Map<string, StoreEntry> {
  const d = ns.digests()
  const wanted = new Set<number>()
  for (const b of buckets) {
    const i = d.arcs.indexOf(b.end)
    if (i >= 0 && d.arcs.arc(i).end === b.end) wanted.add(i * d.leavesPerArc + b.leaf)
  }
  const out = new Map<string, StoreEntry>()
  if (wanted.size === 0) return out
  for (const e of ns.store.entries()) {
    const p = ns.point(e.key)
    const i = d.arcs.indexOf(p)
    if (i >= 0 && wanted.has(i * d.leavesPerArc + d.leafOf(p))) out.set(e.key, e)
  }
  return out
}

function serveSync (ctx: ReplicationContext, ns: NamespaceReplica, item: Extract<RequestItem, { type: 'ae-sync' }>): ReplyItem {
  if (item.ring !== ns.ring.checksum()) { ctx.counters.antiEntropyRingMismatch++; return { type: 'status', status: 'ring-mismatch' } }
  const now = ctx.clock.now()
  const grace = ctx.config.tombstoneGraceMs
  const mine = entriesInBuckets(ns, item.buckets)
  const entries: StoreEntry[] = []
  const wants: string[] = []
  const limit = ctx.config.antiEntropyMaxKeys
  for (const d of item.digests) {
    const m = mine.get(d.key)
    mine.delete(d.key)
    if (agedTombstone(d, now, grace)) continue
    if (m === undefined) { if (wants.length < limit) wants.push(d.key); continue }
    const order = m.version.physical - d.version.physical || m.version.logical - d.version.logical ||
      (m.version.writerId < d.version.writerId ? -1 : m.version.writerId > d.version.writerId ? 1 : 0)
    if (order > 0) { if (entries.length < limit) entries.push(m) } else if (order < 0) { if (wants.length < limit) wants.push(d.key) }
  }
  for (const m of mine.values()) {
    if (entries.length >= limit) break
    if (!agedTombstone(m, now, grace)) entries.push(m)
  }
  return { type: 'ae-sync-reply', entries, wants }
}

function serveScan (ctx: ReplicationContext, ns: NamespaceReplica, item: Extract<RequestItem, { type: 'scan' }>): ReplyItem {
  let pattern: RegExp | undefined
  if (item.pattern !== undefined) {
    try {
      pattern = new RegExp(item.pattern.source, item.pattern.flags)
    } catch (err) {
      return { type: 'error', code: 'ERR_INVALID_OPTION', message: `scan: bad pattern: ${(err as Error).message}` }
    }
  }
  const limit = Math.min(item.limit, ctx.config.maxScanItems)
  let primaryMatches = 0
  const items: StoreEntry[] = []
  const prefix = item.prefix
  for (const e of ns.store.entries()) {
    if (prefix !== undefined && !e.key.startsWith(prefix)) continue
    if (pattern !== undefined) { pattern.lastIndex = 0; if (!pattern.test(e.key)) continue }
    const p = ns.point(e.key)
    if (!ns.owns(p)) continue
    if (e.value !== null && ns.replicasAt(p)[0] === ctx.self) primaryMatches++
    items.push(e)
  }
  items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  // `limit` live keys, with the tombstones among them (the coordinator needs them to drop deleted keys)
  const page: StoreEntry[] = []
  let live = 0
  let bytes = 0
  for (const e of items) {
    if (live >= limit || (page.length > 0 && bytes + (e.value?.byteLength ?? 0) > 2 * CHUNK_BYTES)) break
    page.push(e)
    bytes += (e.value?.byteLength ?? 0) + e.key.length
    if (e.value !== null) live++
  }
  return { type: 'scan-result', primaryMatches, items: page }
}
