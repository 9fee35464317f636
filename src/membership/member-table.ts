/**
 * One peer's member table, laid out for 10,000 simulated peers in one process: struct-of-arrays indexed
 * by a member number, instead of one record object and one Map entry per member per peer.
 *
 * - `MemberNumbers` turns an id or address string into a small integer (and back). It has no protocol
 *   meaning: it is a string table, so every peer in a process stores one number where it would store its
 *   own copy of `'p01234'`, and indexes its typed arrays with it directly (no per-peer Map). One table is
 *   shared by default (`sharedMemberNumbers`); a real deployment runs one peer per process, so nothing is
 *   shared between peers there.
 * - Bound: a number is never given back. The shared table holds every distinct id and address the
 *   process has met (about 100 bytes each), and each peer's arrays are as long as the highest number it
 *   has stored (about 30 bytes per slot). A reaped member keeps its number, so a member that comes back
 *   reuses it; only a process that meets millions of distinct ids over its life grows past a few MB.
 * - `MemberTable` keeps, per number: state (0 = absent), incarnation, when the state began, the address's
 *   number, the position in the dead list; metadata and suspicions live in small maps, only for the
 *   members that have them (most members have no metadata; few are suspected at once). Iteration is in
 *   insertion order, like the Map it replaces (push-pull states and `members()` list members that way).
 */
import { EMPTY_META } from '../wire/membership.js'
import type { MemberState, Metadata } from '../wire/membership.js'
import type { Suspicion } from './suspicion.js'

export class MemberNumbers {
  readonly #byString = new Map<string, number>()
  readonly #strings: string[] = []

  /** The number of `s`, given one if it has none yet. */
  number (s: string): number {
    let n = this.#byString.get(s)
    if (n === undefined) {
      n = this.#strings.length
      this.#strings.push(s)
      this.#byString.set(s, n)
    }
    return n
  }

  /** The number of `s`, or -1 when it has none (nothing is added). */
  find (s: string): number {
    return this.#byString.get(s) ?? -1
  }

  /** The string numbered `n`. */
  string (n: number): string { return this.#strings[n] }

  /** How many strings have a number. */
  get size (): number { return this.#strings.length }
}

/** The process-wide string table every peer uses unless given another one. */
export const sharedMemberNumbers = new MemberNumbers()

const ABSENT = 0
const STATE_NAMES: readonly MemberState[] = ['alive', 'alive', 'suspect', 'dead', 'left']
const STATE_CODES: Readonly<Record<MemberState, number>> = { alive: 1, suspect: 2, dead: 3, left: 4 }

export class MemberTable {
  readonly numbers: MemberNumbers
  #state = new Uint8Array(0)
  #incarnation = new Float64Array(0)
  #changedAtMs = new Float64Array(0)
  #address = new Int32Array(0)
  /** Position in the owner's dead list plus one; 0: not in it. */
  #deadSlot = new Int32Array(0)
  readonly #meta = new Map<number, Metadata>()
  readonly #suspicions = new Map<number, Suspicion>()
  /** Member numbers in insertion order. */
  #order = new Int32Array(16)
  #size = 0

  constructor (numbers: MemberNumbers) {
    this.numbers = numbers
  }

  /** Members held (tombstones included). */
  get size (): number { return this.#size }

  /** The i-th member number in insertion order. */
  at (i: number): number { return this.#order[i] }

  /** The number of a member this table holds, or -1. */
  find (id: string): number {
    const m = this.numbers.find(id)
    return m >= 0 && m < this.#state.length && this.#state[m] !== ABSENT ? m : -1
  }

  add (id: string, address: string, meta: Metadata, incarnation: number, state: MemberState, nowMs: number): number {
    const m = this.numbers.number(id)
    this.#reserve(m)
    this.#state[m] = STATE_CODES[state]
    this.#incarnation[m] = incarnation
    this.#changedAtMs[m] = nowMs
    this.#address[m] = this.numbers.number(address)
    this.#deadSlot[m] = 0
    this.setMeta(m, meta)
    if (this.#size === this.#order.length) {
      const grown = new Int32Array(this.#order.length * 2)
      grown.set(this.#order)
      this.#order = grown
    }
    this.#order[this.#size++] = m
    return m
  }

  /** Forgets a member (O(n): reaps are rare). */
  delete (m: number): void {
    this.#state[m] = ABSENT
    this.#meta.delete(m)
    this.#suspicions.delete(m)
    const order = this.#order
    const i = order.subarray(0, this.#size).indexOf(m)
    if (i >= 0) {
      order.copyWithin(i, i + 1, this.#size)
      this.#size--
    }
  }

  id (m: number): string { return this.numbers.string(m) }
  state (m: number): MemberState { return STATE_NAMES[this.#state[m]] }
  isLive (m: number): boolean { const s = this.#state[m]; return s === 1 || s === 2 }
  incarnation (m: number): number { return this.#incarnation[m] }
  changedAtMs (m: number): number { return this.#changedAtMs[m] }
  address (m: number): string { return this.numbers.string(this.#address[m]) }
  meta (m: number): Metadata { return this.#meta.get(m) ?? EMPTY_META }
  suspicion (m: number): Suspicion | undefined { return this.#suspicions.size === 0 ? undefined : this.#suspicions.get(m) }
  deadSlot (m: number): number { return this.#deadSlot[m] }

  setState (m: number, state: MemberState): void { this.#state[m] = STATE_CODES[state] }
  setIncarnation (m: number, incarnation: number): void { this.#incarnation[m] = incarnation }
  setChangedAtMs (m: number, nowMs: number): void { this.#changedAtMs[m] = nowMs }
  setAddress (m: number, address: string): void { this.#address[m] = this.numbers.number(address) }
  setDeadSlot (m: number, slot: number): void { this.#deadSlot[m] = slot }

  setMeta (m: number, meta: Metadata): void {
    if (Object.keys(meta).length === 0) this.#meta.delete(m)
    else this.#meta.set(m, meta)
  }

  setSuspicion (m: number, s: Suspicion | undefined): void {
    if (s === undefined) this.#suspicions.delete(m)
    else this.#suspicions.set(m, s)
  }

  #reserve (m: number): void {
    if (m < this.#state.length) return
    // sized to the numbers given so far (in a simulation, every peer ends up holding nearly all of them)
    const length = Math.max(m + 1, this.numbers.size, Math.ceil(this.#state.length * 1.25))
    this.#state = grow(this.#state, new Uint8Array(length))
    this.#incarnation = grow(this.#incarnation, new Float64Array(length))
    this.#changedAtMs = grow(this.#changedAtMs, new Float64Array(length))
    this.#address = grow(this.#address, new Int32Array(length))
    this.#deadSlot = grow(this.#deadSlot, new Int32Array(length))
  }
}

function grow<T extends Uint8Array | Float64Array | Int32Array> (from: T, to: T): T {
  to.set(from as never)
  return to
}
