/**
 * `fetch(key, loader)`: read-through with one loader call per missing key across the mesh (see
 * leases.ts for the lease protocol at the primary).
 *
 * The caller's side, on any peer:
 * 1. Callers of one key on this peer share one flight (local single flight first).
 * 2. The flight asks the key's primary (`fetch` item). The answer is the value, "not found" (a loader
 *    found nothing recently), a lease (this caller loads), or "wait over"/"refused" (the primary could
 *    not make it wait).
 * 3. With a lease: run the loader, send the value to the primary (`fill`), which writes it as a normal
 *    write of the namespace's mode and wakes every caller waiting there. If the loader found nothing, the
 *    primary remembers it for `notFoundTtlMs`; if the loader failed, the lease passes to the next waiter.
 * 4. Without the mesh (wait over, refused, primary unreachable): load here and write the value with a
 *    normal set (a fall-back, counted: it is the only way a second loader call happens).
 *
 * Stale-while-revalidate: a value is stored with TTL `ttlMs + staleWhileRevalidateMs`; within its last
 * `staleWhileRevalidateMs` it is returned at once and refreshed in the background, by one caller in the
 * mesh (a refresh asks for a lease and never waits).
 */
import type { MeshcacheError } from '../errors.js'
import type { StoreEntry } from '../storage/store.js'
import type { RequestItem } from '../wire/replication.js'
import { callReplica } from './calls.js'
import { coordinateWrite, makeEntry, primaryWrite, quorumWrite, type CoordinatorHost } from './coordinator.js'
import { Op } from './calls.js'
import { UnknownNamespaceError } from './errors.js'
import type { FetchWaiter, NamespaceReplica } from './replica.js'
import { readOwned, type Respond } from './replica-service.js'

/** A loader in callback form: `done(null, value)`, `done(null, undefined)` for "not found", `done(err)`. */
export type Loader = (key: string, done: (err: unknown, value?: Uint8Array) => void) => void

export interface FetchOptions {
  /** TTL of a loaded value, in ms; 0 for the namespace's default. @default 0 */
  ttlMs?: number
  /** Serve a value this long past its TTL while one caller reloads it in the background, in ms. @default 0 */
  staleWhileRevalidateMs?: number
  /** Remember for this long that the loader found nothing (no loader call until then), in ms; 0: do not. @default 0 */
  notFoundTtlMs?: number
  /** Longest wait at the primary for another caller's load before loading here, in ms. @default fetchWaitMs */
  waitMs?: number
}

export interface FetchResult {
  value: Uint8Array | undefined
  /** Where the answer came from. */
  source: 'cache' | 'stale' | 'loaded' | 'waited' | 'not-found-cached' | 'fallback'
}

export type FetchDone = (err: unknown, result?: FetchResult) => void

/** In-flight fetches on this peer, by namespace and key (local single flight). */
export class FetchFlights {
  readonly #flights = new Map<string, FetchDone[]>()
  get size (): number { return this.#flights.size }
  join (id: string, done: FetchDone): boolean {
    const f = this.#flights.get(id)
    if (f === undefined) { this.#flights.set(id, [done]); return false }
    f.push(done)
    return true
  }

  finish (id: string, err: unknown, result?: FetchResult): void {
    const f = this.#flights.get(id)
    this.#flights.delete(id)
    if (f !== undefined) for (const d of f) d(err, result)
  }
}

export interface FetchHost extends CoordinatorHost {
  readonly flights: FetchFlights
}

function isFresh (e: StoreEntry, nowMs: number, swrMs: number): boolean {
  return e.expiresAt === undefined || e.expiresAt - swrMs > nowMs
}

export function coordinateFetch (host: FetchHost, nsName: string, key: string, options: FetchOptions, load: Loader, done: FetchDone): void {
  const ctx = host.ctx
  ctx.counters.opsFetch++
  ctx.counters.fetches++
  const ns = host.namespace(nsName)
  if (ns === undefined) { done(new UnknownNamespaceError(nsName)); return }
  try { ns.checkWritable(key, null) } catch (err) { done(err); return }
  const swr = options.staleWhileRevalidateMs ?? 0
  const ttl = options.ttlMs ?? 0
  const ttlWithStale = swr > 0 ? (ttl > 0 ? ttl : ns.def.ttlMs) + swr : ttl
  const notFoundTtl = options.notFoundTtlMs ?? 0
  const waitMs = Math.max(0, options.waitMs ?? ctx.config.fetchWaitMs)
  const id = `${nsName}\u0000${key}`
  if (host.flights.join(id, done)) return
  const finish = (err: unknown, result?: FetchResult): void => {
    if (result !== undefined && result.source !== 'cache' && result.source !== 'stale') ctx.counters.fetchMisses++
    host.flights.finish(id, err, result)
  }
  const p = ns.point(key)

  const runLoader = (then: (err: unknown, value?: Uint8Array) => void): void => {
    ctx.counters.fetchLoads++
    let called = false
    try {
      load(key, (err, value) => {
        if (called) return
        called = true
        if (err === null || err === undefined) {
          if (value !== undefined && !(value instanceof Uint8Array)) { then(new TypeError('fetch: the loader must produce bytes (or go through a namespace codec) or undefined')); return }
          try { if (value !== undefined) ns.checkWritable(key, value) } catch (e) { then(e); return }
        }
        then(err, value)
      })
    } catch (err) {
      if (!called) { called = true; then(err) }
    }
  }

  const fallback = (): void => {
    ctx.counters.fetchFallbacks++
    runLoader((err, value) => {
      if (err !== null && err !== undefined) { finish(err); return }
      if (value === undefined) { finish(null, { value: undefined, source: 'fallback' }); return }
      coordinateWrite(host, nsName, key, value, ttlWithStale, () => finish(null, { value, source: 'fallback' }))
    })
  }

  const fill = (primary: string, leaseId: number, source: 'loaded'): void => {
    runLoader((err, value) => {
      const failed = err !== null && err !== undefined
      const item: RequestItem = {
        type: 'fill', ns: nsName, key, leaseId, outcome: failed ? 'failed' : value === undefined ? 'not-found' : 'value',
        ttlMs: ttlWithStale, notFoundTtlMs: notFoundTtl
      }
      if (!failed && value !== undefined) item.value = value
      const answered = (): void => {
        if (failed) finish(err)
        else finish(null, { value, source })
      }
      if (primary === ctx.self) serveFill(host, item as Extract<RequestItem, { type: 'fill' }>, () => answered())
      else callReplica(host, primary, item, () => answered())
    })
  }

  const onAnswer = (primary: string, outcome: string, entry?: StoreEntry, leaseId?: number): void => {
    const now = ctx.clock.now()
    switch (outcome) {
      case 'value': {
        const e = entry!
        if (isFresh(e, now, swr)) { ctx.counters.fetchHits++; finish(null, { value: e.value ?? undefined, source: 'cache' }); return }
        ctx.counters.fetchHits++
        finish(null, { value: e.value ?? undefined, source: 'stale' })
        refresh(host, ns, primary, key, e.expiresAt! - swr, runLoader, ttlWithStale, notFoundTtl)
        return
      }
      case 'not-found': ctx.counters.fetchNotFoundCached++; finish(null, { value: undefined, source: 'not-found-cached' }); return
      case 'granted': fill(primary, leaseId!, 'loaded'); return
      default: fallback()
    }
  }

  const primary = ns.replicasAt(p)[0]
  if (primary === undefined) { fallback(); return }
  const item: Extract<RequestItem, { type: 'fetch' }> = { type: 'fetch', ns: nsName, key, waitMs, staleBefore: 0 }
  if (primary === ctx.self) {
    serveFetch(host, ctx.self, item, (r) => {
      if (r.type === 'fetch-result') onAnswer(primary, r.outcome, r.entry, r.leaseId)
      else fallback()
    })
    return
  }
  callReplica(host, primary, item, (a) => {
    if (a.kind === 'reply' && a.reply.type === 'fetch-result') onAnswer(primary, a.reply.outcome, a.reply.entry, a.reply.leaseId)
    else fallback()
  }, { solo: true, timeoutMs: waitMs + ctx.config.requestTimeoutMs })
}

/** A background refresh of a stale value: one caller in the mesh gets the lease and reloads. */
function refresh (host: FetchHost, ns: NamespaceReplica, primary: string, key: string, staleBefore: number,
  runLoader: (then: (err: unknown, value?: Uint8Array) => void) => void, ttlMs: number, notFoundTtlMs: number): void {
  const ctx = host.ctx
  const item: Extract<RequestItem, { type: 'fetch' }> = { type: 'fetch', ns: ns.name, key, waitMs: 0, staleBefore: Math.max(1, Math.floor(staleBefore)) }
  const granted = (leaseId: number): void => {
    runLoader((err, value) => {
      const failed = err !== null && err !== undefined
      const f: RequestItem = { type: 'fill', ns: ns.name, key, leaseId, outcome: failed ? 'failed' : value === undefined ? 'not-found' : 'value', ttlMs, notFoundTtlMs }
      if (!failed && value !== undefined) f.value = value
      if (failed) ctx.warnOnce(`refresh:${ns.name}`, 'a background refresh (stale-while-revalidate) failed; the stale value stays until it expires', { ns: ns.name, error: String(err) })
      if (primary === ctx.self) serveFill(host, f as Extract<RequestItem, { type: 'fill' }>, () => {})
      else callReplica(host, primary, f, () => {})
    })
  }
  if (primary === ctx.self) {
    serveFetch(host, ctx.self, item, (r) => { if (r.type === 'fetch-result' && r.outcome === 'granted') granted(r.leaseId!) })
    return
  }
  callReplica(host, primary, item, (a) => {
    if (a.kind === 'reply' && a.reply.type === 'fetch-result' && a.reply.outcome === 'granted') granted(a.reply.leaseId!)
  })
}

/** Arms a timer that lets the namespace's leases act on deadlines (waiters' and leases'). */
function scheduleLeaseTick (host: FetchHost, ns: NamespaceReplica, atMs: number): void {
  const ctx = host.ctx
  ctx.clock.setTimer(Math.max(0, atMs - ctx.clock.now()), () => {
    if (ctx.stopped) return
    const { timedOut, handedOver } = ns.leases.tick(ctx.clock.now())
    for (const w of timedOut) w({ kind: 'wait-timeout' })
    for (const h of handedOver) {
      h.waiter({ kind: 'granted', leaseId: h.leaseId })
      scheduleLeaseTick(host, ns, ctx.clock.now() + ns.leases.leaseMs)
    }
  })
}

/** The primary's side of a `fetch` item. */
export function serveFetch (host: FetchHost, from: string, item: Extract<RequestItem, { type: 'fetch' }>, respond: Respond): void {
  const ctx = host.ctx
  const ns = host.namespace(item.ns)
  if (ns === undefined) { ctx.counters.unknownNamespaceRefusals++; respond({ type: 'status', status: 'unknown-namespace' }); return }
  const p = ns.point(item.key)
  if (!ns.owns(p)) { ctx.counters.notOwnerRefusals++; respond({ type: 'status', status: 'not-owner', owners: ns.replicasAt(p) }); return }
  readOwned(host, ns, item.key, p, (e) => {
    const now = ctx.clock.now()
    const live = e !== undefined && e.value !== null
    if (item.staleBefore > 0) {
      if (live && (e.expiresAt === undefined || e.expiresAt > item.staleBefore)) { respond({ type: 'fetch-result', outcome: 'value', entry: e }); return }
      const leaseId = ns.leases.tryAcquire(item.key, from, now)
      if (leaseId === undefined) { respond({ type: 'fetch-result', outcome: 'refused' }); return }
      scheduleLeaseTick(host, ns, now + ns.leases.leaseMs)
      respond({ type: 'fetch-result', outcome: 'granted', leaseId })
      return
    }
    if (live) { respond({ type: 'fetch-result', outcome: 'value', entry: e }); return }
    if (ns.leases.isKnownMissing(item.key, now)) { respond({ type: 'fetch-result', outcome: 'not-found' }); return }
    let answered = false
    const waiter: FetchWaiter = (outcome) => {
      if (answered) return
      answered = true
      switch (outcome.kind) {
        case 'value': respond({ type: 'fetch-result', outcome: 'value', entry: outcome.entry }); break
        case 'not-found': respond({ type: 'fetch-result', outcome: 'not-found' }); break
        case 'granted': respond({ type: 'fetch-result', outcome: 'granted', leaseId: outcome.leaseId }); break
        case 'wait-timeout': respond({ type: 'fetch-result', outcome: 'wait-timeout' }); break
      }
    }
    const deadline = now + Math.min(item.waitMs, ctx.config.fetchWaitMs)
    const answer = ns.leases.acquire(item.key, from, waiter, now, deadline)
    if (answer.kind === 'granted') {
      scheduleLeaseTick(host, ns, now + ns.leases.leaseMs)
      respond({ type: 'fetch-result', outcome: 'granted', leaseId: answer.leaseId })
    } else if (answer.kind === 'wait') {
      ctx.counters.fetchWaits++
      scheduleLeaseTick(host, ns, deadline)
    } else {
      respond({ type: 'fetch-result', outcome: 'refused' })
    }
  })
}

/** The primary's side of a `fill` item: write the loaded value, wake the waiters. */
export function serveFill (host: FetchHost, item: Extract<RequestItem, { type: 'fill' }>, respond: Respond): void {
  const ctx = host.ctx
  const ns = host.namespace(item.ns)
  if (ns === undefined) { ctx.counters.unknownNamespaceRefusals++; respond({ type: 'status', status: 'unknown-namespace' }); return }
  const p = ns.point(item.key)
  if (!ns.owns(p)) { ctx.counters.notOwnerRefusals++; respond({ type: 'status', status: 'not-owner', owners: ns.replicasAt(p) }); return }
  const now = ctx.clock.now()
  if (item.outcome === 'failed') {
    const next = ns.leases.abandon(item.key, item.leaseId, now)
    if (next !== undefined) {
      next.waiter({ kind: 'granted', leaseId: next.leaseId })
      scheduleLeaseTick(host, ns, now + ns.leases.leaseMs)
    }
    respond({ type: 'status', status: 'ok' })
    return
  }
  if (item.outcome === 'not-found') {
    const waiters = ns.leases.fill(item.key, item.leaseId) ?? []
    if (item.notFoundTtlMs > 0) ns.leases.rememberNotFound(item.key, now + item.notFoundTtlMs)
    for (const w of waiters) w({ kind: 'not-found' })
    respond({ type: 'status', status: 'ok' })
    return
  }
  let entry: StoreEntry
  try {
    ns.checkWritable(item.key, item.value ?? new Uint8Array(0))
    entry = makeEntry(ctx, ns, item.key, item.value ?? new Uint8Array(0), item.ttlMs)
  } catch (err) {
    const e = err as MeshcacheError
    respond({ type: 'error', code: e.code ?? 'ERR_INVALID_VALUE', message: String(e.message) })
    return
  }
  const wake = (): void => {
    const waiters = ns.leases.fill(item.key, item.leaseId) ?? []
    for (const w of waiters) w({ kind: 'value', entry })
  }
  if (ns.def.replication === 'sync') {
    const op = new Op<unknown>(ctx, host.ops, `fill ${item.ns}/${item.key}`, true, (err) => {
      wake() // the waiters get the value even if fewer than W replicas took it: it is what the loader said
      respond(err === null ? { type: 'status', status: 'ok' } : { type: 'error', code: (err as MeshcacheError).code, message: (err as MeshcacheError).message })
    })
    quorumWrite(host, ns, entry, p, ns.replicasAt(p), op, () => op.ok(undefined))
    return
  }
  primaryWrite(host, ns, entry, p)
  wake()
  respond({ type: 'status', status: 'ok' })
}
