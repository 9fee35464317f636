/**
 * Expiry in the local store, without timers: TTL and max-idle deadlines, the grace of tombstones, and the
 * incremental sweep that removes what is due. Like Redis: lazily when an entry is touched, plus an active
 * part; here a cursor over the entries instead of random samples, so each pass looks at every entry.
 *
 * Time is `clock.now()` only, read lazily: an entry is checked when it is touched, and by the sweep, a
 * few steps on every write, every 32nd read and `sweep(maxWork)`. A live entry expires at its EXPIRES_AT
 * (TTL deadline) or, with `maxIdleMs`, at its IDLE_UNTIL (refreshed by each `get`); it is flagged EXPIRES
 * only when it has a finite deadline, so the sweep and a `get` skip the others without reading a clock.
 * A tombstone's EXPIRES_AT is the end of its grace; tombstones are queued in deletion order (grace is the
 * same for all), so the sweep collects them from the oldest and stops at the first one not due.
 *
 * Invariants: an expired entry is never returned by a read and is reported `'expire'` when it is
 * removed; the sweep ends (its cursor wraps around at most once per call) and does at most `maxWork`
 * steps, each an entry looked at or a tombstone collected.
 */
import { newCursor, OFFSET_BITS, OFFSET_MASK, type Arena, type ArenaCursor } from './arena.js'
import { EXPIRES, EXPIRES_AT, IDLE_UNTIL, INFO, TOMBSTONE, time, field } from './record.js'

/** Sweep steps done after every write, and every 32nd read. */
export const SWEEP_STEPS_PER_WRITE = 4
export const SWEEP_STEPS_PER_READ = 8

/** True when the live entry `a` (with INFO `info`) has passed its TTL or idle deadline at `now`. */
export function isExpired (entries: Arena, a: number, info: number, now: number, maxIdleMs: number): boolean {
  if ((info & (EXPIRES | TOMBSTONE)) !== EXPIRES) return false
  const f = entries.f64[a >>> OFFSET_BITS]
  const fi = a & OFFSET_MASK
  return now >= f[fi + EXPIRES_AT] || (maxIdleMs > 0 && now >= f[fi + IDLE_UNTIL])
}

/** What the sweep needs from the store that owns the entries. */
export interface SweepOwner {
  /** Live entries flagged EXPIRES (the sweep walks entries only while there are some). */
  readonly expiring: number
  /** The oldest tombstone, or -1. */
  oldestTombstone (): number
  /** Removes the tombstone `t`, whose grace has passed. */
  collectTombstone (t: number): void
  /** Removes the expired entry `a` (reported `'expire'`). */
  expire (a: number): void
}

export class Sweeper {
  readonly #entries: Arena
  readonly #maxIdleMs: number
  readonly #owner: SweepOwner
  #cursor: ArenaCursor = newCursor()

  constructor (entries: Arena, maxIdleMs: number, owner: SweepOwner) {
    this.#entries = entries
    this.#maxIdleMs = maxIdleMs
    this.#owner = owner
  }

  /**
   * Collects due tombstones (oldest first), then checks live entries for expiry from the cursor; `maxWork`
   * entries in all. Returns how many it removed.
   */
  sweep (maxWork: number, now: number): number {
    const owner = this.#owner
    const entries = this.#entries
    let removed = 0
    let work = 0
    while (work < maxWork) {
      const t = owner.oldestTombstone()
      if (t < 0 || time(entries, t, EXPIRES_AT) > now) break
      owner.collectTombstone(t)
      removed++
      work++
    }
    let restarted = false
    while (work < maxWork && owner.expiring > 0) {
      const a = entries.next(this.#cursor)
      if (a < 0) {
        if (restarted) break
        restarted = true
        this.#cursor = newCursor()
        continue
      }
      work++
      if (isExpired(entries, a, field(entries, a, INFO), now, this.#maxIdleMs)) {
        owner.expire(a)
        removed++
      }
    }
    return removed
  }

  /** Starts the walk over (the arena was cleared). */
  reset (): void {
    this.#cursor = newCursor()
  }
}
