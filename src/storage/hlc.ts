/**
 * Hybrid logical clock (Kulkarni, Demirbas, Madappa, Avva, Leone: "Logical Physical Clocks and Consistent
 * Snapshots in Globally Distributed Databases", 2014).
 *
 * A timestamp is `(physical, logical)`: `physical` is the largest wall-clock millisecond this peer has seen
 * (its own clock or a remote timestamp), `logical` counts events within that millisecond. Versions add the
 * writer's id, which makes the order total: `(physical, logical, writerId)`; last-writer-wins picks the
 * greatest.
 *
 * Invariants:
 * - every timestamp this clock issues is strictly greater than every timestamp it issued or received
 *   before, even when the wall clock goes backwards or stalls;
 * - `physical` never falls behind the wall clock's integer millisecond at the moment of issue;
 * - `logical` fits 16 bits, as in the paper's 64-bit encoding (48-bit physical + 16-bit logical). If an
 *   event would push it past 65535, `physical` is advanced by one millisecond and `logical` restarts at 0,
 *   which keeps the order strict at the price of running 1 ms ahead of the wall clock.
 *
 * Pure: the wall clock is the injected `Clock`; only `clock.now()` is read.
 */
import type { Clock } from '../env/clock.js'
import { MeshcacheError } from '../errors.js'

/** Largest value of the logical counter (16 bits). */
export const MAX_LOGICAL = 0xffff

export interface HlcTimestamp {
  /** Milliseconds since the Unix epoch (an integer). */
  readonly physical: number
  /** Counter of events within `physical`, 0..MAX_LOGICAL. */
  readonly logical: number
}

/** A version: a hybrid logical clock timestamp plus the id of the peer that wrote it. */
export interface Version extends HlcTimestamp {
  readonly writerId: string
}

/** A version (or timestamp) received from elsewhere is malformed. */
export class InvalidVersionError extends MeshcacheError {
  constructor (message: string) { super('ERR_INVALID_VERSION', message) }
}

/** Orders timestamps by `(physical, logical)`: negative, 0 or positive like a sort comparator. */
export function compareTimestamps (a: HlcTimestamp, b: HlcTimestamp): number {
  if (a.physical !== b.physical) return a.physical < b.physical ? -1 : 1
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1
  return 0
}

/** Compares writer ids by UTF-16 code units, the tie-break every peer computes the same way. */
export function compareWriterIds (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The total order of versions: `(physical, logical, writerId)`. */
export function compareVersions (a: Version, b: Version): number {
  return compareTimestamps(a, b) || compareWriterIds(a.writerId, b.writerId)
}

/** True when `t` is a timestamp this module can order: integer physical >= 0, logical in 0..MAX_LOGICAL. */
export function isValidTimestamp (t: HlcTimestamp): boolean {
  return t !== null && typeof t === 'object' &&
    Number.isSafeInteger(t.physical) && t.physical >= 0 &&
    Number.isInteger(t.logical) && t.logical >= 0 && t.logical <= MAX_LOGICAL
}

/** Throws `InvalidVersionError` unless `v` is a valid version (valid timestamp, non-empty writer id). */
export function assertValidVersion (v: Version): void {
  if (!isValidTimestamp(v)) {
    throw new InvalidVersionError(`version timestamp must have an integer physical >= 0 and a logical in 0..${MAX_LOGICAL}, got ${JSON.stringify(v)}`)
  }
  if (typeof v.writerId !== 'string' || v.writerId.length === 0) {
    throw new InvalidVersionError(`version writerId must be a non-empty string, got ${JSON.stringify(v.writerId)}`)
  }
}

/** Builds a timestamp, carrying a logical overflow into the physical part (see the invariants above). */
function carry (physical: number, logical: number): HlcTimestamp {
  return logical > MAX_LOGICAL ? { physical: physical + 1, logical: 0 } : { physical, logical }
}

/**
 * The paper's rule for a local or send event: `l = max(l, pt)`; `c = c + 1` when `l` did not move,
 * else 0. `wallMs` is the wall clock, floored to an integer millisecond.
 */
export function tickLocal (last: HlcTimestamp, wallMs: number): HlcTimestamp {
  const pt = Math.floor(wallMs)
  if (pt > last.physical) return { physical: pt, logical: 0 }
  return carry(last.physical, last.logical + 1)
}

/**
 * The paper's rule for a receive event: `l = max(l, l_m, pt)`; `c` is one more than the largest
 * counter among the inputs whose physical part equals the new `l`, or 0 if only the wall clock does.
 */
export function tickReceive (last: HlcTimestamp, remote: HlcTimestamp, wallMs: number): HlcTimestamp {
  const pt = Math.floor(wallMs)
  const l = Math.max(last.physical, remote.physical, pt)
  if (l === last.physical && l === remote.physical) return carry(l, Math.max(last.logical, remote.logical) + 1)
  if (l === last.physical) return carry(l, last.logical + 1)
  if (l === remote.physical) return carry(l, remote.logical + 1)
  return { physical: l, logical: 0 }
}

/** A hybrid logical clock for one peer. Share one instance across a peer's namespaces. */
export class Hlc {
  readonly #clock: Clock
  // The state, as numbers so that a local tick allocates nothing; `#last` is its object form, made on demand.
  #physical = 0
  #logical = 0
  #last: HlcTimestamp | null = null

  constructor (clock: Clock) {
    if (clock === null || typeof clock !== 'object' || typeof clock.now !== 'function') {
      throw new TypeError('Hlc needs a Clock (src/env): pass systemClock, or a ManualClock in tests')
    }
    this.#clock = clock
  }

  /** The last timestamp issued or received (the clock's state); does not advance it. */
  get last (): HlcTimestamp {
    this.#last ??= { physical: this.#physical, logical: this.#logical }
    return this.#last
  }

  /** Physical part of `last`. */
  get lastPhysical (): number { return this.#physical }

  /** Logical part of `last`. */
  get lastLogical (): number { return this.#logical }

  /** Issues a timestamp for a local event (a write): strictly greater than everything seen so far. */
  now (): HlcTimestamp {
    return this.nowAt(this.#clock.now())
  }

  /** `now()` for a wall-clock reading (`clock.now()`) the caller has just taken, to save reading it twice. */
  nowAt (wallMs: number): HlcTimestamp {
    this.tickAt(wallMs)
    return this.last
  }

  /**
   * `nowAt` without making the timestamp object (the store's write path): the issued timestamp is then
   * `lastPhysical` / `lastLogical`. Same rule as `tickLocal`, carry included.
   */
  tickAt (wallMs: number): void {
    const pt = Math.floor(wallMs)
    if (pt > this.#physical) {
      this.#physical = pt
      this.#logical = 0
    } else if (this.#logical < MAX_LOGICAL) {
      this.#logical++
    } else {
      this.#physical++
      this.#logical = 0
    }
    this.#last = null
  }

  /**
   * Merges a timestamp received from another peer (replication, gossip) and returns the new state, which
   * is strictly greater than both `remote` and every earlier timestamp. Throws `InvalidVersionError` for a
   * malformed timestamp.
   */
  update (remote: HlcTimestamp): HlcTimestamp {
    if (!isValidTimestamp(remote)) {
      throw new InvalidVersionError(`remote timestamp must have an integer physical >= 0 and a logical in 0..${MAX_LOGICAL}, got ${JSON.stringify(remote)}`)
    }
    const t = tickReceive(this.last, remote, this.#clock.now())
    this.#physical = t.physical
    this.#logical = t.logical
    this.#last = t
    return t
  }
}
