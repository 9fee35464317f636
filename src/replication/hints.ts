/**
 * Hinted hand-off (Dynamo, §4.6): a write that could not reach one of its replicas is kept here, on the
 * peer that tried, as a hint for that replica, and delivered when the replica is reachable again.
 *
 * Bounded in count and bytes, and every hint expires (`ttlMs`), so a replica that never comes back costs
 * a bounded amount of memory; whatever is dropped is counted by reason, and anti-entropy repairs what a
 * dropped hint would have carried. One hint per (replica, namespace, key): a newer write replaces the
 * older hint (only the newest version matters under last-writer-wins). Hints never count toward a sync
 * write's W: they are a repair path, not a replica (strict quorums).
 *
 * Invariants: `count <= maxHints`, `bytes <= maxBytes` after every call; every hint leaves exactly once,
 * as delivered, expired, dropped (full) or refused (the target no longer owns the key); `ttlMs` should be
 * shorter than the stores' tombstone grace, or an expired hint's delete could come back. Pure: times in.
 */
import { compareVersions } from '../storage/hlc.js'
import type { StoreEntry } from '../storage/store.js'

export interface Hint {
  readonly target: string
  readonly ns: string
  readonly entry: StoreEntry
  readonly bytes: number
  readonly expiresAtMs: number
}

export interface HintQueueInit {
  /** Most hints held. @default 10000 */
  maxHints?: number
  /** Most bytes held (key + value + 64 per hint). @default 16 MiB */
  maxBytes?: number
  /** How long a hint is kept, in ms. @default 120000 */
  ttlMs?: number
}

export interface HintCounters {
  stored: number
  replaced: number
  delivered: number
  expired: number
  droppedFull: number
  refused: number
}

const HINT_OVERHEAD_BYTES = 64

function hintKey (target: string, ns: string, key: string): string {
  return `${target}\u0000${ns}\u0000${key}`
}

export class HintQueue {
  readonly maxHints: number
  readonly maxBytes: number
  readonly ttlMs: number
  /** All hints in insertion order (oldest first). */
  readonly #hints = new Map<string, Hint>()
  readonly #byTarget = new Map<string, Set<string>>()
  #bytes = 0
  readonly counters: HintCounters = { stored: 0, replaced: 0, delivered: 0, expired: 0, droppedFull: 0, refused: 0 }

  constructor (init: HintQueueInit = {}) {
    this.maxHints = init.maxHints ?? 10_000
    this.maxBytes = init.maxBytes ?? 16 * 1024 * 1024
    this.ttlMs = init.ttlMs ?? 120_000
  }

  get count (): number { return this.#hints.size }
  get bytes (): number { return this.#bytes }

  /** Targets with hints waiting. */
  targets (): string[] { return [...this.#byTarget.keys()] }

  /** Hints waiting for one target. */
  countFor (target: string): number { return this.#byTarget.get(target)?.size ?? 0 }

  /** Keeps a hint of `entry` for `target`. Returns false if it could not be kept (too big for the queue). */
  add (target: string, ns: string, entry: StoreEntry, nowMs: number): boolean {
    const bytes = entry.key.length * 2 + (entry.value?.byteLength ?? 0) + HINT_OVERHEAD_BYTES
    if (bytes > this.maxBytes) { this.counters.droppedFull++; return false }
    const k = hintKey(target, ns, entry.key)
    const old = this.#hints.get(k)
    if (old !== undefined) {
      if (compareVersions(old.entry.version, entry.version) >= 0) return true
      this.#remove(k, old)
      this.counters.replaced++
    }
    this.expire(nowMs)
    while (this.#hints.size >= this.maxHints || this.#bytes + bytes > this.maxBytes) {
      const [oldestKey, oldest] = this.#hints.entries().next().value as [string, Hint]
      this.#remove(oldestKey, oldest)
      this.counters.droppedFull++
    }
    this.#hints.set(k, { target, ns, entry, bytes, expiresAtMs: nowMs + this.ttlMs })
    let set = this.#byTarget.get(target)
    if (set === undefined) { set = new Set(); this.#byTarget.set(target, set) }
    set.add(k)
    this.#bytes += bytes
    this.counters.stored++
    return true
  }

  /** Drops expired hints (oldest first; hints are in insertion order, so expiry order). */
  expire (nowMs: number): number {
    let n = 0
    for (const [k, h] of this.#hints) {
      if (h.expiresAtMs > nowMs) break
      this.#remove(k, h)
      this.counters.expired++
      n++
    }
    return n
  }

  /** Up to `max` hints for `target`, oldest first, left in the queue until `settle` is called. */
  peek (target: string, max: number): Hint[] {
    const out: Hint[] = []
    const set = this.#byTarget.get(target)
    if (set === undefined) return out
    for (const k of set) {
      if (out.length >= max) break
      out.push(this.#hints.get(k)!)
    }
    return out
  }

  /** A delivery attempt ended: `delivered` or `refused` removes the hint (if it is still the same one). */
  settle (hint: Hint, how: 'delivered' | 'refused'): void {
    const k = hintKey(hint.target, hint.ns, hint.entry.key)
    if (this.#hints.get(k) !== hint) return
    this.#remove(k, hint)
    this.counters[how]++
  }

  /** Drops every hint (a stopped peer). */
  clear (): void {
    this.#hints.clear()
    this.#byTarget.clear()
    this.#bytes = 0
  }

  #remove (k: string, h: Hint): void {
    this.#hints.delete(k)
    const set = this.#byTarget.get(h.target)
    if (set !== undefined) {
      set.delete(k)
      if (set.size === 0) this.#byTarget.delete(h.target)
    }
    this.#bytes -= h.bytes
  }
}
