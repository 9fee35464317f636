/**
 * `scan`: the keys of a namespace matching a prefix and/or a regular expression, across the mesh.
 *
 * The coordinator asks every peer of its ring for its first `offset + limit` matching keys among those
 * it replicates (with their versions, tombstones included), merges them by key keeping the newest
 * version, drops deleted keys, sorts by key and cuts the page. `total` is the sum of the matches each
 * peer holds as the key's primary, exact when views agree and no range is moving. A peer that does not
 * answer in time makes the result `complete: false` (its keys may be missing from the page).
 */
import { InvalidOptionError, type MeshcacheError } from '../errors.js'
import type { StoreEntry } from '../storage/store.js'
import type { ReplyItem, RequestItem } from '../wire/replication.js'
import { callReplica } from './calls.js'
import type { CoordinatorHost } from './coordinator.js'
import { UnknownNamespaceError } from './errors.js'
import { newer } from './replica.js'
import { serveReplicaItem } from './replica-service.js'

export interface ScanRequest {
  prefix?: string
  pattern?: RegExp
  /** Matches to skip, in key order. @default 0 */
  offset?: number
  /** Most matches returned. @default 100 */
  limit?: number
}

export interface MeshScanResult {
  items: Array<{ key: string, value: Uint8Array }>
  /** Matching keys in the mesh (see the module comment). */
  total: number
  /** False when some peer did not answer. */
  complete: boolean
}

export function coordinateScan (host: CoordinatorHost, nsName: string, req: ScanRequest, done: (err: MeshcacheError | null, r?: MeshScanResult) => void): void {
  const ctx = host.ctx
  ctx.counters.opsScan++
  const ns = host.namespace(nsName)
  if (ns === undefined) { done(new UnknownNamespaceError(nsName)); return }
  const offset = req.offset ?? 0
  const limit = req.limit ?? 100
  if (!Number.isSafeInteger(offset) || offset < 0) { done(new InvalidOptionError(`scan: offset must be an integer >= 0, got ${String(req.offset)}`)); return }
  if (!Number.isSafeInteger(limit) || limit < 0) { done(new InvalidOptionError(`scan: limit must be an integer >= 0, got ${String(req.limit)}`)); return }
  if (offset + limit > ctx.config.maxScanItems) { done(new InvalidOptionError(`scan: offset + limit is ${offset + limit}, over maxScanItems (${ctx.config.maxScanItems}); page with smaller windows`)); return }
  if (req.prefix !== undefined && typeof req.prefix !== 'string') { done(new InvalidOptionError('scan: prefix must be a string')); return }
  if (req.pattern !== undefined && !(req.pattern instanceof RegExp)) { done(new InvalidOptionError('scan: pattern must be a RegExp')); return }
  const item: Extract<RequestItem, { type: 'scan' }> = { type: 'scan', ns: nsName, limit: offset + limit }
  if (req.prefix !== undefined) item.prefix = req.prefix
  if (req.pattern !== undefined) item.pattern = { source: req.pattern.source, flags: req.pattern.flags.replace('g', '').replace('y', '') }
  const peers = ns.ring.peers().length > 0 ? ns.ring.peers() : [ctx.self]
  const merged = new Map<string, StoreEntry>()
  let total = 0
  let complete = true
  let left = peers.length
  let failure: MeshcacheError | undefined
  const one = (reply: ReplyItem | undefined): void => {
    if (reply?.type === 'scan-result') {
      total += reply.primaryMatches
      for (const e of reply.items) merged.set(e.key, newer(merged.get(e.key), e)!)
    } else {
      complete = false
      if (reply?.type === 'error') failure ??= new InvalidOptionError(reply.message)
    }
    if (--left > 0) return
    if (failure !== undefined && merged.size === 0) { done(failure); return }
    const live = [...merged.values()].filter((e) => e.value !== null).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    done(null, { items: live.slice(offset, offset + limit).map((e) => ({ key: e.key, value: e.value! })), total, complete })
  }
  for (const peer of peers) {
    if (peer === ctx.self) serveReplicaItem(host, ctx.self, item, (r) => one(r))
    else callReplica(host, peer, item, (a) => one(a.kind === 'reply' ? a.reply : undefined))
  }
}
