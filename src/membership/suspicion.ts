/**
 * One suspicion: a member we suspect, since when, and who independently accused it (Lifeguard's dynamic
 * suspicion timeout; memberlist's suspicion.go). The timeout starts at `maxMs` and shrinks
 * logarithmically with each independent confirmation down to `minMs` after `wanted` of them.
 *
 * Accusers are member ids, first one first; the first accuser does not count as a confirmation (it is
 * the suspicion itself), every later distinct accuser does. Suspect updates carry the accusers we know,
 * so one message can bring several confirmations at once. At most `wanted + 1` accusers are kept:
 * beyond that the timeout cannot shrink further.
 *
 * With `wanted = 0` (plain SWIM, or too few members to confirm) the timeout is fixed at `minMs`.
 */
import { suspicionTimeoutMs } from './math.js'

export class Suspicion {
  readonly startMs: number
  readonly minMs: number
  readonly maxMs: number
  readonly wanted: number
  readonly accusers: string[] = []
  /** Id of the timer task that fires at the current deadline (owned by the core). */
  taskId = 0

  constructor (startMs: number, accusers: Iterable<string>, wanted: number, minMs: number, maxMs: number) {
    this.startMs = startMs
    this.wanted = wanted
    this.minMs = minMs
    this.maxMs = Math.max(minMs, maxMs)
    this.confirm(accusers)
  }

  /** Independent confirmations so far. */
  get confirmations (): number { return Math.max(0, this.accusers.length - 1) }

  /** Adds accusers not seen before; returns how many were new (0: nothing changed). */
  confirm (ids: Iterable<string>): number {
    let added = 0
    for (const id of ids) {
      if (this.accusers.length > this.wanted) break
      if (this.accusers.includes(id)) continue
      this.accusers.push(id)
      added++
    }
    return added
  }

  /** When the suspicion expires and the member is declared dead, in ms. */
  deadlineMs (): number {
    return this.startMs + suspicionTimeoutMs(this.confirmations, this.wanted, this.minMs, this.maxMs)
  }
}
