/**
 * The client API of one namespace, as an application sees it: promises, typed values through a codec,
 * typed errors. Every call goes through the peer's replication engine, which routes it to the key's
 * replicas; a handle holds no state of its own (get one as often as you like).
 *
 * Errors: `UnknownNamespaceError`, `InvalidKeyError`, `ValueTooLargeError`, `InvalidValueError`,
 * `InvalidOptionError` are refused before anything is sent (no side effect). `QuorumNotReachedError`,
 * `TimeoutError`, `UnavailableError`, `PeerStoppedError` carry `outcome`: `'none'` (certainly no effect)
 * or `'unknown'` (a write may have been applied by some replica).
 */
import { InvalidOptionError } from '../errors.js'
import type { MeshcacheError } from '../errors.js'
import type { ReplicationEngine } from '../replication/engine.js'
import type { FetchOptions, FetchResult } from '../replication/fetch.js'
import { READ_MODES, type NamespaceDefinition, type ReadMode } from '../replication/namespace.js'
import type { ScanRequest } from '../replication/scan.js'
import type { StoreStats } from '../storage/store.js'
import { InvalidValueError, type ValueCodec } from './codecs.js'

export interface ReadOptions {
  /** `local` (this peer's copy, may be stale), `primary` (the key's primary), `quorum` (R replicas, repaired). @default the namespace's readMode */
  read?: ReadMode
}

export interface WriteOptions {
  /** Time to live in ms; the namespace's ttlMs when not given (0: no expiry there either). */
  ttlMs?: number
}

export type ScanOptions = ScanRequest

export interface ScanPage<T> {
  items: Array<{ key: string, value: T }>
  /** Matching keys in the whole namespace. */
  total: number
  /** False when some peer did not answer in time (the page may miss its keys). */
  complete: boolean
}

/** A loader for `fetch`: the value, or undefined when the source has none. */
export type FetchLoader<T> = (key: string) => Promise<T | undefined> | T | undefined

function promised<R> (run: (done: (err: MeshcacheError | null | unknown, r?: R) => void) => void): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    run((err, r) => {
      if (err !== null && err !== undefined) reject(err)
      else resolve(r as R)
    })
  })
}

function checkReadMode (mode: ReadMode | undefined): void {
  if (mode !== undefined && !READ_MODES.includes(mode)) throw new InvalidOptionError(`read must be one of ${READ_MODES.join(', ')}, got ${JSON.stringify(mode)}`)
}

function checkTtl (ttlMs: number | undefined): number {
  if (ttlMs === undefined) return 0
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) throw new InvalidOptionError(`ttlMs must be a positive number of milliseconds, got ${String(ttlMs)}`)
  return ttlMs
}

export class Namespace<T = Uint8Array> {
  readonly name: string
  readonly codec: ValueCodec<T>
  readonly #engine: ReplicationEngine

  /** @internal use `peer.namespace(name)` */
  constructor (engine: ReplicationEngine, name: string, codec: ValueCodec<T>) {
    this.#engine = engine
    this.name = name
    this.codec = codec
  }

  /** The namespace's definition as this peer knows it, or undefined while it is not declared. */
  get definition (): NamespaceDefinition | undefined { return this.#engine.namespace(this.name)?.def }

  #decode (bytes: Uint8Array | null | undefined): T | undefined {
    if (bytes === null || bytes === undefined) return undefined
    return this.codec.decode(bytes)
  }

  #encode (value: T): Uint8Array {
    const bytes = this.codec.encode(value)
    if (!(bytes instanceof Uint8Array)) throw new InvalidValueError(`codec ${this.codec.name} did not produce bytes`)
    return bytes
  }

  /** The value under `key`, or undefined. */
  async get (key: string, options: ReadOptions = {}): Promise<T | undefined> {
    checkReadMode(options.read)
    const entry = await promised<import('../storage/store.js').StoreEntry | undefined>((d) => this.#engine.get(this.name, key, options.read, d))
    return this.#decode(entry?.value)
  }

  /** True when a value is stored under `key`. */
  async has (key: string, options: ReadOptions = {}): Promise<boolean> {
    checkReadMode(options.read)
    const entry = await promised<import('../storage/store.js').StoreEntry | undefined>((d) => this.#engine.get(this.name, key, options.read, d))
    return entry !== undefined && entry.value !== null
  }

  /** Stores `value` under `key` (as the namespace's replication mode says). */
  async set (key: string, value: T, options: WriteOptions = {}): Promise<void> {
    const ttl = checkTtl(options.ttlMs)
    const bytes = this.#encode(value)
    await promised((d) => this.#engine.set(this.name, key, bytes, ttl, d))
  }

  /** Deletes `key` (a tombstone replicates the delete); true when a live value was removed. */
  async delete (key: string): Promise<boolean> {
    const r = await promised<{ replaced: boolean }>((d) => this.#engine.delete(this.name, key, d))
    return r.replaced
  }

  /** `get` for each key, in order (the requests run concurrently and are batched per peer). */
  async getMany (keys: readonly string[], options: ReadOptions = {}): Promise<Array<T | undefined>> {
    checkReadMode(options.read)
    return await Promise.all(keys.map(async (k) => await this.get(k, options)))
  }

  /** `set` for each `[key, value, options?]`; every item is attempted, the first error is thrown after all ended. */
  async setMany (items: ReadonlyArray<readonly [string, T] | readonly [string, T, WriteOptions | undefined]>): Promise<void> {
    const results = await Promise.allSettled(items.map(async (it) => { await this.set(it[0], it[1], it[2] ?? {}) }))
    const failed = results.find((r) => r.status === 'rejected')
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
  }

  /** `delete` for each key; how many live values were removed. Every key is attempted; the first error is thrown after all ended. */
  async deleteMany (keys: readonly string[]): Promise<number> {
    const results = await Promise.allSettled(keys.map(async (k) => await this.delete(k)))
    const failed = results.find((r) => r.status === 'rejected')
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
    return results.filter((r) => r.status === 'fulfilled' && r.value).length
  }

  /**
   * Adds `delta` (a safe integer, default 1) to the integer stored under `key` (absent counts as 0) and
   * returns the new value. The value is stored as decimal text. Runs at the key's primary, one at a time
   * per key; not linearizable across primary changes or partitions (use a strong namespace for that).
   */
  async incr (key: string, delta = 1): Promise<number> {
    const r = await promised<{ value: number }>((d) => this.#engine.incr(this.name, key, delta, d))
    return r.value
  }

  /** `incr(key, -delta)`. */
  async decr (key: string, delta = 1): Promise<number> {
    if (!Number.isSafeInteger(delta)) throw new InvalidOptionError(`decr: delta must be a safe integer, got ${String(delta)}`)
    return await this.incr(key, -delta)
  }

  /** Keys matching `prefix` and/or `pattern`, sorted, `offset` skipped, at most `limit` (default 100). */
  async scan (options: ScanOptions = {}): Promise<ScanPage<T>> {
    const r = await promised<import('../replication/scan.js').MeshScanResult>((d) => this.#engine.scan(this.name, options, d))
    return { items: r.items.map((it) => ({ key: it.key, value: this.codec.decode(it.value) })), total: r.total, complete: r.complete }
  }

  /**
   * Read-through: the cached value, or the loader's. On a miss, one caller in the whole mesh runs its
   * loader; the others wait for that value (up to `waitMs`, then load themselves). Options: `ttlMs` of
   * the loaded value, `staleWhileRevalidateMs` (serve a value that old past its TTL while one caller
   * reloads it), `notFoundTtlMs` (remember that the loader found nothing), `waitMs`.
   */
  async fetch (key: string, loader: FetchLoader<T>, options: FetchOptions = {}): Promise<T | undefined> {
    const r = await this.fetchWithSource(key, loader, options)
    return r.value
  }

  /** `fetch`, also saying where the value came from (cache, stale, loaded, waited, not-found-cached, fallback). */
  async fetchWithSource (key: string, loader: FetchLoader<T>, options: FetchOptions = {}): Promise<{ value: T | undefined, source: FetchResult['source'] }> {
    if (typeof loader !== 'function') throw new InvalidOptionError('fetch needs a loader function: (key) => value | undefined | Promise of either')
    for (const k of ['ttlMs', 'staleWhileRevalidateMs', 'notFoundTtlMs', 'waitMs'] as const) {
      const v = options[k]
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) throw new InvalidOptionError(`fetch: ${k} must be a number of milliseconds >= 0, got ${String(v)}`)
    }
    const r = await promised<FetchResult>((d) => this.#engine.fetch(this.name, key, options, (k, done) => {
      let out
      try { out = loader(k) } catch (err) { done(err); return }
      Promise.resolve(out).then((v) => {
        if (v === undefined) { done(null, undefined); return }
        let bytes
        try { bytes = this.#encode(v) } catch (err) { done(err); return }
        done(null, bytes)
      }, (err: unknown) => done(err))
    }, d))
    return { value: this.#decode(r.value), source: r.source }
  }

  /** This peer's local store of the namespace: entries, bytes, hits, evictions... (not the mesh's). */
  localStats (): StoreStats | undefined { return this.#engine.namespace(this.name)?.store.stats() }
}
