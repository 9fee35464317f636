/**
 * Read-through single flight across the mesh: fill leases at a key's primary, and its "not found" cache.
 *
 * `fetch(key, loader)` must call the loader once per missing key in the whole mesh, however many callers
 * on however many peers ask at once (memcached's and Facebook's "leases", groupcache's single flight
 * lifted from one process to the mesh). Every fetch of a key goes to the key's primary. The first one
 * that misses gets a lease (an id, valid `leaseMs`) and calls its loader; the others wait at the primary,
 * each up to its own deadline, for the lease holder's fill. A fill wakes every waiter with the value;
 * an abandoned lease (the holder's loader failed, or it vanished and the lease expired) passes to the
 * first waiter, which then loads. A waiter whose deadline passes is told so and falls back to its own
 * loader (bounded wait, never a hang).
 *
 * The "not found" cache remembers, for `notFoundTtlMs`, that a loader found nothing, so a storm of
 * fetches of a missing key calls the loader once, not once per caller. It lives at the primary, in
 * memory, bounded; any write of the key clears it.
 *
 * Invariants: at most one live lease per key; a waiter is answered exactly once (fill, hand-over,
 * timeout or `clear`); at most `maxWaitersPerKey` waiters per key and `maxKeys` keys with leases
 * (extra callers are told to load themselves). Pure: the caller passes times and holds the callbacks.
 */

export type LeaseAnswer =
  | { kind: 'granted', leaseId: number }
  | { kind: 'wait' }
  /** Too many waiters or leases: the caller should load without the mesh's single flight. */
  | { kind: 'refused' }

interface Lease<W> {
  leaseId: number
  holder: string
  expiresAtMs: number
  waiters: Array<{ waiter: W, deadlineMs: number }>
}

export interface FetchLeasesInit {
  /** How long a lease holder has to fill, in ms. @default 10000 */
  leaseMs?: number
  /** Most callers waiting on one key. @default 1024 */
  maxWaitersPerKey?: number
  /** Most keys with a lease at once. @default 10000 */
  maxKeys?: number
  /** Most keys in the "not found" cache. @default 10000 */
  maxNotFound?: number
}

export class FetchLeases<W> {
  readonly leaseMs: number
  readonly maxWaitersPerKey: number
  readonly maxKeys: number
  readonly maxNotFound: number
  readonly #leases = new Map<string, Lease<W>>()
  readonly #notFound = new Map<string, number>()
  #nextLeaseId = 1

  constructor (init: FetchLeasesInit = {}) {
    this.leaseMs = init.leaseMs ?? 10_000
    this.maxWaitersPerKey = init.maxWaitersPerKey ?? 1024
    this.maxKeys = init.maxKeys ?? 10_000
    this.maxNotFound = init.maxNotFound ?? 10_000
  }

  get activeLeases (): number { return this.#leases.size }

  /** A fetch of `key` missed at the primary: grant a lease, or park `waiter` until `deadlineMs`. */
  acquire (key: string, holder: string, waiter: W, nowMs: number, deadlineMs: number): LeaseAnswer {
    const lease = this.#leases.get(key)
    if (lease === undefined || lease.expiresAtMs <= nowMs) {
      if (lease === undefined && this.#leases.size >= this.maxKeys) return { kind: 'refused' }
      const leaseId = this.#nextLeaseId++
      this.#leases.set(key, { leaseId, holder, expiresAtMs: nowMs + this.leaseMs, waiters: lease?.waiters ?? [] })
      return { kind: 'granted', leaseId }
    }
    if (lease.waiters.length >= this.maxWaitersPerKey) return { kind: 'refused' }
    lease.waiters.push({ waiter, deadlineMs })
    return { kind: 'wait' }
  }

  /** A lease if nobody holds one for `key` (a refresh never waits): its id, else undefined. */
  tryAcquire (key: string, holder: string, nowMs: number): number | undefined {
    const lease = this.#leases.get(key)
    if (lease !== undefined && lease.expiresAtMs > nowMs) return undefined
    if (lease === undefined && this.#leases.size >= this.maxKeys) return undefined
    const leaseId = this.#nextLeaseId++
    this.#leases.set(key, { leaseId, holder, expiresAtMs: nowMs + this.leaseMs, waiters: lease?.waiters ?? [] })
    return leaseId
  }

  /** The holder filled: the lease ends and every waiter is returned (to be answered with the value). */
  fill (key: string, leaseId: number): W[] | undefined {
    const lease = this.#leases.get(key)
    if (lease === undefined || lease.leaseId !== leaseId) return undefined
    this.#leases.delete(key)
    return lease.waiters.map((w) => w.waiter)
  }

  /**
   * The holder gave up (its loader failed): the lease passes to the first waiter, which is returned with
   * its new lease id; undefined when nobody waits (the lease just ends).
   */
  abandon (key: string, leaseId: number, nowMs: number): { waiter: W, leaseId: number } | undefined {
    const lease = this.#leases.get(key)
    if (lease === undefined || lease.leaseId !== leaseId) return undefined
    return this.#handOver(key, lease, nowMs)
  }

  /**
   * Time passes: waiters past their deadline are returned in `timedOut`; expired leases pass to their
   * first waiter (returned in `handedOver`) or end.
   */
  tick (nowMs: number): { timedOut: W[], handedOver: Array<{ key: string, waiter: W, leaseId: number }> } {
    const timedOut: W[] = []
    const handedOver: Array<{ key: string, waiter: W, leaseId: number }> = []
    for (const [key, lease] of this.#leases) {
      if (lease.waiters.some((w) => w.deadlineMs <= nowMs)) {
        for (const w of lease.waiters) if (w.deadlineMs <= nowMs) timedOut.push(w.waiter)
        lease.waiters = lease.waiters.filter((w) => w.deadlineMs > nowMs)
      }
      if (lease.expiresAtMs <= nowMs) {
        const next = this.#handOver(key, lease, nowMs)
        if (next !== undefined) handedOver.push({ key, ...next })
      }
    }
    return { timedOut, handedOver }
  }

  /** The earliest time `tick` has something to do, or Infinity. */
  nextDeadlineMs (): number {
    let t = Infinity
    for (const lease of this.#leases.values()) {
      if (lease.expiresAtMs < t) t = lease.expiresAtMs
      for (const w of lease.waiters) if (w.deadlineMs < t) t = w.deadlineMs
    }
    return t
  }

  /** Every waiter, and forgets all leases (the peer stops or the key's range moved away). */
  clear (): W[] {
    const out: W[] = []
    for (const lease of this.#leases.values()) for (const w of lease.waiters) out.push(w.waiter)
    this.#leases.clear()
    this.#notFound.clear()
    return out
  }

  /** Remembers that the loader found nothing for `key`, until `untilMs`. */
  rememberNotFound (key: string, untilMs: number): void {
    this.#notFound.delete(key)
    if (this.#notFound.size >= this.maxNotFound) this.#notFound.delete(this.#notFound.keys().next().value!)
    this.#notFound.set(key, untilMs)
  }

  /** True when a loader recently found nothing for `key` (and no write came since). */
  isKnownMissing (key: string, nowMs: number): boolean {
    const until = this.#notFound.get(key)
    if (until === undefined) return false
    if (until <= nowMs) { this.#notFound.delete(key); return false }
    return true
  }

  /** A write of `key` happened: forget that it was missing. */
  written (key: string): void {
    if (this.#notFound.size > 0) this.#notFound.delete(key)
  }

  #handOver (key: string, lease: Lease<W>, nowMs: number): { waiter: W, leaseId: number } | undefined {
    const next = lease.waiters.shift()
    if (next === undefined) { this.#leases.delete(key); return undefined }
    lease.leaseId = this.#nextLeaseId++
    lease.expiresAtMs = nowMs + this.leaseMs
    return { waiter: next.waiter, leaseId: lease.leaseId }
  }
}
