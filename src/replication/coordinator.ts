/**
 * The coordinator: how one client operation is carried out over a key's replicas (Dynamo §4.5, with
 * SuperCache's read modes). Any peer coordinates any key: what it does not hold, it asks for in one hop.
 *
 * Reads, by mode:
 * - `local`: this peer's copy when it is a replica of the key, else as `primary`;
 * - `primary`: the key's primary (first replica) answers; if it cannot be reached, the next replica does
 *   (fail-over), so a read stays available while a replica is down;
 * - `quorum`: every replica is asked and the first `readQuorum` answers decide: the newest version wins,
 *   and replicas among them that answered an older version (or nothing) are repaired — sent the newest
 *   entry — before the read answers (read repair); late answers are repaired in the background.
 *
 * Writes (set and delete; a delete is a write of a tombstone):
 * - `sync`: this peer versions the write with its HLC and sends it to every replica; it answers once
 *   `writeQuorum` distinct replicas acknowledged (a replica that already holds a newer version counts: the
 *   write is superseded there, not lost). Replicas that failed get a hint (which never counts toward W).
 * - `async`: the write goes to the key's primary (one hop), which applies it, answers, and sends it to
 *   the other replicas in the background (hints for those that cannot be reached). If the primary cannot
 *   be reached, the next replica takes the write as acting primary.
 * - `incr` / `decr` run at the primary, one at a time per key: read (a quorum read in sync mode), add,
 *   write (W acks in sync mode). This is *not* linearizable: two primaries during a partition, or a
 *   primary change, can each count from the same value (strong mode is for counters that must be exact).
 *
 * A replica that answers `not-owner` names the key's replicas in its view; the coordinator then asks
 * those it has not asked yet (one re-route per answer), which is how a coordinator with a stale ring
 * reaches the new owners. Quorums are capped at the number of replicas the ring has (a mesh of two peers
 * serves a namespace of three replicas with quorums of at most two).
 */
import { InvalidOptionError, type MeshcacheError } from '../errors.js'
import { compareVersions, type Version } from '../storage/hlc.js'
import type { StoreEntry } from '../storage/store.js'
import type { ClientOp, RequestItem } from '../wire/replication.js'
import { callReplica, type CallHost, Op, type OpLike, type OpTracker, type ReplicaAnswer } from './calls.js'
import type { ReplicationContext } from './context.js'
import { NotANumberError, QuorumNotReachedError, TimeoutError, UnavailableError, UnknownNamespaceError } from './errors.js'
import type { HintQueue } from './hints.js'
import type { ReadMode } from './namespace.js'
import { newer, type NamespaceReplica } from './replica.js'
import { readOwned, type ReplicaHost, type Respond } from './replica-service.js'

export interface CoordinatorHost extends ReplicaHost, CallHost {
  readonly ops: OpTracker
  readonly hints: HintQueue
  /** Sends an applied entry to the other replicas, in the background (async replication). */
  replicateInBackground(ns: NamespaceReplica, entry: StoreEntry, targets: readonly string[]): void
}

export interface WriteResult { version: Version, replaced: boolean }
export interface IncrResult { value: number, version: Version }

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: false })

function namespaceOf (host: CoordinatorHost, name: string): NamespaceReplica {
  const ns = host.namespace(name)
  if (ns === undefined) throw new UnknownNamespaceError(name)
  return ns
}

function exhausted (op: OpLike, what: string, sawTimeout: boolean): MeshcacheError {
  return sawTimeout
    ? new TimeoutError(`${what}: every replica that was tried timed out`, op.outcome)
    : new UnavailableError(`${what}: no replica of the key could be reached`, op.outcome)
}

// ------------------------------------------------------------------------------------------- reads

/** Reads a key with the given mode; the result is the newest entry found (a tombstone means deleted). */
export function coordinateRead (host: CoordinatorHost, nsName: string, key: string, mode: ReadMode, done: (err: MeshcacheError | null, entry?: StoreEntry) => void): void {
  const ctx = host.ctx
  ctx.counters.opsGet++
  let ns: NamespaceReplica
  try { ns = namespaceOf(host, nsName) } catch (err) { done(err as MeshcacheError); return }
  const op = new Op<StoreEntry | undefined>(ctx, host.ops, `get ${nsName}/${key}`, false, done)
  const p = ns.point(key)
  const replicas = ns.replicasAt(p)
  if (replicas.length === 0) { op.fail(new UnavailableError(`get ${nsName}/${key}: the ring is empty`)); return }
  if (mode === 'quorum') { quorumRead(host, ns, key, p, replicas, op, (entry) => op.ok(entry)); return }
  const order = mode === 'local' && replicas.includes(ctx.self) ? [ctx.self, ...replicas.filter((r) => r !== ctx.self)] : replicas
  readInOrder(host, ns, key, p, order, op)
}

/** Asks replicas one after the other until one answers (primary read with fail-over). */
function readInOrder (host: CoordinatorHost, ns: NamespaceReplica, key: string, p: number, order: string[], op: Op<StoreEntry | undefined>): void {
  const ctx = host.ctx
  const tried = new Set<string>()
  const queue = order.slice()
  let sawTimeout = false
  const next = (): void => {
    if (op.finished) return
    const peer = queue.shift()
    if (peer === undefined) { op.fail(exhausted(op, op.what, sawTimeout)); return }
    if (tried.has(peer)) { next(); return }
    tried.add(peer)
    if (tried.size > 1) ctx.counters.failovers++
    if (peer === ctx.self) {
      if (!ns.owns(p)) { next(); return }
      readOwned(host, ns, key, p, (e) => op.ok(e))
      return
    }
    ctx.counters.forwarded++
    callReplica(host, peer, { type: 'read', ns: ns.name, key, noProxy: false }, (a) => {
      if (a.kind === 'reply') {
        if (a.reply.type === 'entry') { op.ok(a.reply.entry); return }
        if (a.reply.type === 'status' && a.reply.status === 'not-found') { op.ok(undefined); return }
        next()
      } else if (a.kind === 'not-owner') {
        ctx.counters.reroutes++
        queue.unshift(...a.owners.filter((o) => !tried.has(o)))
        next()
      } else {
        if (a.reason === 'timeout') sawTimeout = true
        next()
      }
    })
  }
  next()
}

/**
 * A quorum read: asks every replica, decides on the first `readQuorum` answers, repairs the stale ones
 * among them, then calls `decided` with the newest entry.
 */
export function quorumRead (host: CoordinatorHost, ns: NamespaceReplica, key: string, p: number, replicas: readonly string[], op: OpLike, decided: (entry: StoreEntry | undefined) => void): void {
  const ctx = host.ctx
  const need = Math.min(ns.def.readQuorum, replicas.length)
  const asked = new Set<string>()
  const answers = new Map<string, StoreEntry | undefined>()
  let outstanding = 0
  let decidedAt = false
  let best: StoreEntry | undefined

  const repair = (peer: string, entry: StoreEntry, then?: () => void): void => {
    ctx.counters.readRepairs++
    if (peer === ctx.self) { if (ns.owns(p)) ns.applyEntry(entry); then?.(); return }
    callReplica(host, peer, { type: 'write', ns: ns.name, entry, purpose: 'repair' }, () => then?.())
  }
  const isStale = (e: StoreEntry | undefined, newest: StoreEntry): boolean => {
    if (e === undefined) return newest.value !== null
    return compareVersions(e.version, newest.version) < 0
  }
  let launching = true // no decision until every replica has been asked (a local answer comes at once)
  const settle = (): void => {
    if (decidedAt || op.finished || launching) return
    if (answers.size >= need) {
      decidedAt = true
      const newest = best
      if (newest === undefined) { decided(undefined); return }
      const stale = [...answers].filter(([, e]) => isStale(e, newest)).map(([peer]) => peer)
      if (stale.length === 0) { decided(newest); return }
      let left = stale.length
      for (const peer of stale) repair(peer, newest, () => { if (--left === 0) decided(newest) })
      return
    }
    if (outstanding === 0) op.fail(new QuorumNotReachedError(op.what, answers.size, need, 'none'))
  }
  const answer = (peer: string, e: StoreEntry | undefined): void => {
    if (decidedAt) {
      if (best !== undefined && isStale(e, best)) repair(peer, best) // a late stale answer: repaired in the background
      return
    }
    answers.set(peer, e)
    best = newer(best, e)
    settle()
  }
  const ask = (peer: string): void => {
    if (asked.has(peer)) return
    asked.add(peer)
    outstanding++
    if (peer === ctx.self) {
      if (!ns.owns(p)) { outstanding--; settle(); return }
      readOwned(host, ns, key, p, (e) => { outstanding--; answer(peer, e) })
      return
    }
    callReplica(host, peer, { type: 'read', ns: ns.name, key, noProxy: false }, (a: ReplicaAnswer) => {
      outstanding--
      if (a.kind === 'reply') {
        if (a.reply.type === 'entry') { answer(peer, a.reply.entry); return }
        if (a.reply.type === 'status' && a.reply.status === 'not-found') { answer(peer, undefined); return }
      } else if (a.kind === 'not-owner') {
        ctx.counters.reroutes++
        for (const o of a.owners) ask(o)
      }
      settle()
    })
  }
  for (const r of replicas) ask(r)
  launching = false
  settle()
}

// ------------------------------------------------------------------------------------------- writes

/** The entry a write makes: versioned now by this peer's HLC, expiring after `ttlMs` (0: the namespace default). */
export function makeEntry (ctx: ReplicationContext, ns: NamespaceReplica, key: string, value: Uint8Array | null, ttlMs: number): StoreEntry {
  const now = ctx.clock.now()
  const t = ctx.hlc.nowAt(now)
  const entry: StoreEntry = { key, value, version: { physical: t.physical, logical: t.logical, writerId: ctx.self } }
  const ttl = value === null ? 0 : (ttlMs > 0 ? ttlMs : ns.def.ttlMs)
  if (ttl > 0) entry.expiresAt = now + ttl
  return entry
}

/** Checks a key and value against this namespace's store limits before anything is sent (no side effect). */
function checkWrite (ns: NamespaceReplica, key: string, value: Uint8Array | null, ttlMs: number): void {
  if (!(Number.isFinite(ttlMs) && ttlMs >= 0)) throw new InvalidOptionError(`ttlMs must be a number of milliseconds >= 0 (0: the namespace default), got ${String(ttlMs)}`)
  ns.checkWritable(key, value)
}

/** set / delete (value null), coordinated as the namespace's mode says. */
export function coordinateWrite (host: CoordinatorHost, nsName: string, key: string, value: Uint8Array | null, ttlMs: number, done: (err: MeshcacheError | null, r?: WriteResult) => void): void {
  const ctx = host.ctx
  if (value === null) ctx.counters.opsDelete++; else ctx.counters.opsSet++
  let ns: NamespaceReplica
  try {
    ns = namespaceOf(host, nsName)
    checkWrite(ns, key, value, ttlMs)
  } catch (err) { done(err as MeshcacheError); return }
  const op = new Op<WriteResult>(ctx, host.ops, `${value === null ? 'delete' : 'set'} ${nsName}/${key}`, true, done)
  const p = ns.point(key)
  const replicas = ns.replicasAt(p)
  if (replicas.length === 0) { op.fail(new UnavailableError(`${op.what}: the ring is empty`)); return }
  if (ns.def.replication === 'sync') {
    quorumWrite(host, ns, makeEntry(ctx, ns, key, value, ttlMs), p, replicas, op, (r) => op.ok(r))
    return
  }
  forwardToPrimary(host, ns, p, replicas, op, value === null ? 'delete' : 'set', { key, value: value ?? undefined, ttlMs, delta: 0 },
    () => primaryWrite(host, ns, makeEntry(ctx, ns, key, value, ttlMs), p), (r) => op.ok(r))
}

/** Async mode at the (acting) primary: apply here, answer, replicate in the background. */
export function primaryWrite (host: CoordinatorHost, ns: NamespaceReplica, entry: StoreEntry, p: number): WriteResult {
  const status = ns.applyEntry(entry)
  host.replicateInBackground(ns, entry, ns.replicasAt(p).filter((r) => r !== host.ctx.self))
  return { version: entry.version, replaced: status === 'replaced' }
}

/** Sync mode: sends the entry to every replica and decides on `writeQuorum` acks. */
export function quorumWrite (host: CoordinatorHost, ns: NamespaceReplica, entry: StoreEntry, p: number, replicas: readonly string[], op: OpLike, decided: (r: WriteResult) => void): void {
  const ctx = host.ctx
  const need = Math.min(ns.def.writeQuorum, replicas.length)
  const asked = new Set<string>()
  const acks = new Set<string>()
  let outstanding = 0
  let replaced = false
  let maybeApplied = false
  let done = false
  let launching = true
  const settle = (): void => {
    if (done || op.finished || launching) return
    if (acks.size >= need) { done = true; decided({ version: entry.version, replaced }); return }
    if (outstanding === 0) {
      done = true
      op.fail(new QuorumNotReachedError(op.what, acks.size, need, acks.size > 0 || maybeApplied ? 'unknown' : 'none'))
    }
  }
  const ack = (peer: string, status: string): void => {
    if (status === 'replaced') replaced = true
    acks.add(peer)
  }
  const send = (peer: string): void => {
    if (asked.has(peer)) return
    asked.add(peer)
    if (peer === ctx.self) {
      if (ns.owns(p)) ack(peer, ns.applyEntry(entry))
      settle()
      return
    }
    outstanding++
    op.sent = true
    callReplica(host, peer, { type: 'write', ns: ns.name, entry, purpose: 'coordinate' }, (a) => {
      outstanding--
      if (a.kind === 'reply' && a.reply.type === 'status') {
        ack(peer, a.reply.status)
      } else if (a.kind === 'not-owner') {
        ctx.counters.reroutes++
        for (const o of a.owners) send(o)
      } else if (a.kind === 'failed') {
        if (a.maybeApplied) maybeApplied = true
        if (a.reason !== 'remote-error') host.hints.add(peer, ns.name, entry, ctx.clock.now())
      }
      settle()
    })
  }
  for (const r of replicas) send(r)
  launching = false
  settle()
}

/**
 * Async writes and counters go to the key's primary: run `local` when that is this peer, else forward a
 * client item there; on failure, the next replica (fail-over), re-routing on not-owner.
 */
function forwardToPrimary<T> (host: CoordinatorHost, ns: NamespaceReplica, p: number, replicas: readonly string[], op: Op<T>, clientOp: ClientOp,
  args: { key: string, value?: Uint8Array, ttlMs: number, delta: number }, local: () => T | void, decided: (r: T) => void): void {
  const ctx = host.ctx
  const tried = new Set<string>()
  const queue = replicas.slice()
  let sawTimeout = false
  const next = (): void => {
    if (op.finished) return
    const peer = queue.shift()
    if (peer === undefined) { op.fail(exhausted(op, op.what, sawTimeout)); return }
    if (tried.has(peer)) { next(); return }
    tried.add(peer)
    if (tried.size > 1) ctx.counters.failovers++
    if (peer === ctx.self) {
      if (!ns.owns(p)) { next(); return }
      const r = local()
      if (r !== undefined) decided(r)
      return
    }
    ctx.counters.forwarded++
    op.sent = true
    const item: RequestItem = { type: 'client', op: clientOp, ns: ns.name, key: args.key, readMode: 'primary', ttlMs: args.ttlMs, delta: args.delta }
    if (args.value !== undefined) item.value = args.value
    callReplica(host, peer, item, (a) => {
      if (a.kind === 'reply') {
        if (a.reply.type === 'client-result') {
          const res = a.reply.result
          if (clientOp === 'incr') decided({ value: res.number ?? 0, version: res.version! } as T)
          else decided({ version: res.version!, replaced: res.flag === true } as T)
          return
        }
        next()
      } else if (a.kind === 'not-owner') {
        ctx.counters.reroutes++
        queue.unshift(...a.owners.filter((o) => !tried.has(o)))
        next()
      } else if (a.error !== undefined) {
        op.fail(a.error) // a refusal of the operation itself (not a number, too large): no fail-over
      } else {
        if (a.reason === 'timeout') sawTimeout = true
        next()
      }
    })
  }
  next()
}

// ------------------------------------------------------------------------------------------- counters

/** Parses a stored counter: absent is 0; anything but a decimal safe integer is refused. */
export function parseCounter (value: Uint8Array | null | undefined, what: string): number {
  if (value === null || value === undefined) return 0
  const text = utf8Decoder.decode(value)
  if (!/^-?\d{1,16}$/.test(text)) throw new NotANumberError(`${what}: the value is not an integer (${JSON.stringify(text.slice(0, 40))})`)
  const n = Number(text)
  if (!Number.isSafeInteger(n)) throw new NotANumberError(`${what}: the value ${text} is outside the safe integer range`)
  return n
}

export function coordinateIncr (host: CoordinatorHost, nsName: string, key: string, delta: number, done: (err: MeshcacheError | null, r?: IncrResult) => void): void {
  const ctx = host.ctx
  ctx.counters.opsIncr++
  let ns: NamespaceReplica
  try {
    ns = namespaceOf(host, nsName)
    if (!Number.isSafeInteger(delta)) throw new InvalidOptionError(`incr: delta must be a safe integer, got ${String(delta)}`)
    checkWrite(ns, key, null, 0)
  } catch (err) { done(err as MeshcacheError); return }
  const op = new Op<IncrResult>(ctx, host.ops, `incr ${nsName}/${key}`, true, done)
  const p = ns.point(key)
  const replicas = ns.replicasAt(p)
  if (replicas.length === 0) { op.fail(new UnavailableError(`${op.what}: the ring is empty`)); return }
  forwardToPrimary<IncrResult>(host, ns, p, replicas, op, 'incr', { key, ttlMs: 0, delta },
    () => { primaryIncr(host, ns, key, p, delta, op, (r) => op.ok(r)) }, (r) => op.ok(r))
}

/** Increments waiting at this primary, per namespace and key: one runs at a time. */
const incrQueues = new WeakMap<NamespaceReplica, Map<string, Array<() => void>>>()

/** Runs an increment at the primary, after any earlier one of the same key finished. */
export function primaryIncr (host: CoordinatorHost, ns: NamespaceReplica, key: string, p: number, delta: number, op: OpLike, decided: (r: IncrResult) => void): void {
  let queues = incrQueues.get(ns)
  if (queues === undefined) { queues = new Map(); incrQueues.set(ns, queues) }
  const waiting = queues.get(key)
  const release = (): void => {
    const q = queues.get(key)
    const nextRun = q?.shift()
    if (nextRun !== undefined) nextRun(); else queues.delete(key)
  }
  const run = (): void => {
    op.onEnd(release) // the key is free again once this increment is over, whatever the outcome
    if (op.finished) return
    const apply = (current: StoreEntry | undefined): void => {
      if (op.finished) return
      let next: number
      try {
        next = parseCounter(current?.value, op.what) + delta
        if (!Number.isSafeInteger(next)) throw new NotANumberError(`${op.what}: the result is outside the safe integer range`)
      } catch (err) { op.fail(err as MeshcacheError); return }
      // INCR keeps the key's remaining time to live, as Redis does
      const ttlLeft = current?.value != null && current.expiresAt !== undefined ? Math.max(1, current.expiresAt - host.ctx.clock.now()) : 0
      const entry = makeEntry(host.ctx, ns, key, utf8.encode(String(next)), ttlLeft)
      if (ns.def.replication === 'sync') {
        op.sent = true
        quorumWrite(host, ns, entry, p, ns.replicasAt(p), op, (r) => decided({ value: next, version: r.version }))
      } else {
        primaryWrite(host, ns, entry, p)
        decided({ value: next, version: entry.version })
      }
    }
    if (ns.def.replication === 'sync') quorumRead(host, ns, key, p, ns.replicasAt(p), op, apply)
    else readOwned(host, ns, key, p, apply)
  }
  if (waiting === undefined) { queues.set(key, []); run() } else waiting.push(run)
}

// ------------------------------------------------------------------------------------------- server side

/** A client item forwarded to this peer as the key's (acting) primary. */
export function serveClientItem (host: CoordinatorHost, item: Extract<RequestItem, { type: 'client' }>, respond: Respond): void {
  const ctx = host.ctx
  const ns = host.namespace(item.ns)
  if (ns === undefined) { ctx.counters.unknownNamespaceRefusals++; respond({ type: 'status', status: 'unknown-namespace' }); return }
  const p = ns.point(item.key)
  if (!ns.owns(p)) { ctx.counters.notOwnerRefusals++; respond({ type: 'status', status: 'not-owner', owners: ns.replicasAt(p) }); return }
  let answered = false
  const reply: Respond = (r) => { if (!answered) { answered = true; respond(r) } }
  const fail = (err: MeshcacheError): void => { reply({ type: 'error', code: err.code, message: err.message }) }
  const op = new Op<unknown>(ctx, host.ops, `${item.op} ${item.ns}/${item.key} (forwarded)`, item.op !== 'get' && item.op !== 'has', (err) => { if (err !== null) fail(err) })
  try {
    switch (item.op) {
      case 'set':
      case 'delete': {
        const value = item.op === 'delete' ? null : (item.value ?? new Uint8Array(0))
        checkWrite(ns, item.key, value, item.ttlMs)
        const entry = makeEntry(ctx, ns, item.key, value, item.ttlMs)
        if (ns.def.replication === 'sync') {
          quorumWrite(host, ns, entry, p, ns.replicasAt(p), op, (r) => { op.ok(r); reply({ type: 'client-result', result: { version: r.version, flag: r.replaced } }) })
        } else {
          const r = primaryWrite(host, ns, entry, p)
          op.ok(r)
          reply({ type: 'client-result', result: { version: r.version, flag: r.replaced } })
        }
        break
      }
      case 'incr':
        primaryIncr(host, ns, item.key, p, item.delta, op, (r) => { op.ok(r); reply({ type: 'client-result', result: { number: r.value, version: r.version } }) })
        break
      case 'get':
      case 'has':
        readOwned(host, ns, item.key, p, (e) => {
          op.ok(e)
          const result = e?.value != null ? { value: e.value, version: e.version, flag: true } : { flag: false }
          reply({ type: 'client-result', result })
        })
        break
    }
  } catch (err) {
    op.fail(err as MeshcacheError)
  }
}
