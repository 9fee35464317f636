/**
 * The simulator's event queue: a binary min-heap of `SimEvent`s ordered by (time, sequence number).
 *
 * Every event of a run — host timers, message and request deliveries, replies, pause ends, sim-level
 * callbacks — goes through this one queue, so the order of events at the same instant is the order in
 * which they were scheduled, and a seed replays exactly (TigerBeetle's VOPR, FoundationDB's simulation).
 *
 * One event is one object of one class (a monomorphic shape V8 keeps fast); its fields are reused by
 * kind instead of allocating closures per message. A host timer's event doubles as its `TimerHandle`,
 * and cancellation is lazy: a cancelled event stays in the heap and is skipped when it reaches the top.
 *
 * Invariants: `pop()` returns events in non-decreasing (time, seq); `seq` is unique and increasing.
 */
import type { Address, TransportErrorCode } from '../transport/transport.js'
import type { SimHost } from './host.js'
import type { PendingRequest } from './sim-transport.js'

export const EV_SIM = 0        // sim-level callback: `fn`
export const EV_TIMER = 1      // host timer: `fn`, subject to the host's epoch and pauses
export const EV_MESSAGE = 2    // best-effort message to `host` from `from`
export const EV_REQUEST = 3    // reliable request to `host` from `from` (`request`)
export const EV_REPLY = 4      // reply to `host` (the requester) for `request`
export const EV_OUTCOME = 5    // an error outcome (`code`) for `request`, on the requester `host`
export const EV_TIMEOUT = 6    // the requester's timeout for `request`
export const EV_RESUME = 7     // the end of a pause of `subject` (sim-level: never itself paused)

export class SimEvent {
  time: number
  seq = 0
  kind: number
  /** The host this event runs on (null for sim-level events). */
  host: SimHost | null
  /** The host's epoch when scheduled; the event is void if the host crashed or restarted since. */
  epoch: number
  cancelled = false
  fn: (() => void) | null = null
  from: Address = ''
  payload: Uint8Array | null = null
  request: PendingRequest | null = null
  code: TransportErrorCode | null = null
  subject: SimHost | null = null

  constructor (time: number, kind: number, host: SimHost | null, epoch: number) {
    this.time = time
    this.kind = kind
    this.host = host
    this.epoch = epoch
  }

  /** As a `TimerHandle`: the event's unique sequence number. */
  get id (): number { return this.seq }
}

export class EventQueue {
  #items: SimEvent[] = []
  #seq = 1

  get size (): number { return this.#items.length }

  push (ev: SimEvent): void {
    ev.seq = this.#seq++
    const items = this.#items
    let i = items.length
    items.push(ev)
    const t = ev.time
    const s = ev.seq
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = items[parent]
      if (p.time < t || (p.time === t && p.seq < s)) break
      items[i] = p
      i = parent
    }
    items[i] = ev
  }

  /** Time of the earliest event (cancelled ones included), or Infinity when empty. */
  peekTime (): number {
    return this.#items.length > 0 ? this.#items[0].time : Infinity
  }

  /** Removes and returns the earliest event; the queue must not be empty. */
  pop (): SimEvent {
    const items = this.#items
    const top = items[0]
    const last = items.pop()!
    const n = items.length
    if (n > 0) {
      const t = last.time
      const s = last.seq
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        if (l >= n) break
        let m = l
        let c = items[l]
        const r = l + 1
        if (r < n) {
          const rc = items[r]
          if (rc.time < c.time || (rc.time === c.time && rc.seq < c.seq)) { m = r; c = rc }
        }
        if (t < c.time || (t === c.time && s < c.seq)) break
        items[i] = c
        i = m
      }
      items[i] = last
    }
    return top
  }
}
