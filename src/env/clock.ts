/**
 * Clock: the only door to time for the pure cores and their drivers.
 *
 * `now()` is wall-clock milliseconds (fractional allowed); timers are set through the same object, so a
 * virtual clock controls *both* the time a core reads and when its timers fire (lru-cache injects only
 * `now`; we inject timers too, as TigerBeetle's simulator does).
 *
 * - `systemClock` reads `Date.now()` and uses Node timers (unref'd, so a forgotten timer never keeps a
 *   process alive).
 * - `ManualClock` is virtual: time moves only when `advance(ms)` or `runUntil(t)` is called, and timers
 *   fire in (time, insertion) order, so a run is exactly reproducible.
 */
import { TimerHeap } from './timer-heap.js'

export interface TimerHandle { readonly id: number }

export interface Clock {
  /** Current time in milliseconds since the Unix epoch (virtual clocks start wherever they are told). */
  now(): number
  /** Calls `fn` once, `delayMs` from now. Negative or NaN delays are treated as 0. */
  setTimer(delayMs: number, fn: () => void): TimerHandle
  /** Cancels a timer; cancelling a fired or cancelled timer does nothing. */
  clearTimer(handle: TimerHandle): void
}

class SystemClock implements Clock {
  #nextId = 1
  readonly #timers = new Map<number, ReturnType<typeof setTimeout>>()

  now (): number { return Date.now() }

  setTimer (delayMs: number, fn: () => void): TimerHandle {
    const id = this.#nextId++
    const t = setTimeout(() => { this.#timers.delete(id); fn() }, sanitizeDelay(delayMs))
    t.unref?.()
    this.#timers.set(id, t)
    return { id }
  }

  clearTimer (handle: TimerHandle): void {
    const t = this.#timers.get(handle.id)
    if (t !== undefined) { clearTimeout(t); this.#timers.delete(handle.id) }
  }
}

/** The real clock: `Date.now()` and Node timers. */
export const systemClock: Clock = new SystemClock()

/** A virtual clock for tests and single-peer simulations: time moves only when told to. */
export class ManualClock implements Clock {
  #now: number
  readonly #heap = new TimerHeap<() => void>()

  constructor (startMs = 0) {
    if (!Number.isFinite(startMs)) throw new TypeError(`ManualClock: startMs must be a finite number, got ${startMs}`)
    this.#now = startMs
  }

  now (): number { return this.#now }

  setTimer (delayMs: number, fn: () => void): TimerHandle {
    return { id: this.#heap.push(this.#now + sanitizeDelay(delayMs), fn) }
  }

  clearTimer (handle: TimerHandle): void { this.#heap.cancel(handle.id) }

  /** Number of timers still pending. */
  get pendingTimers (): number { return this.#heap.size }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance (ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ms must be >= 0, got ${ms}`)
    this.runUntil(this.#now + ms)
  }

  /** Fires timers due at or before `t` (timers set while firing are honoured), then sets now = t. */
  runUntil (t: number): void {
    for (;;) {
      const due = this.#heap.peekTime()
      if (due === undefined || due > t) break
      const entry = this.#heap.pop()!
      this.#now = Math.max(this.#now, entry.time)
      entry.value()
    }
    this.#now = Math.max(this.#now, t)
  }
}

function sanitizeDelay (delayMs: number): number {
  return delayMs > 0 ? delayMs : 0
}
