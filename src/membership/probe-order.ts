/**
 * The shared probe order: every known member (tombstones included), sorted by a hash of its id. SWIM
 * probes round-robin over a shuffled list; here the shuffle is the same on every peer (a hash, not a
 * private random draw), and in round r the member at position i probes position i + probeOffset(r, n).
 * All peers use the same offset in a round, so one round's probes are a cyclic shift of the list: each
 * member is probed by exactly one peer per round (independent shuffles would leave a member unprobed for
 * k rounds with probability ~e^-k), while each peer still probes every other member once per n - 1 rounds.
 *
 * Views that differ a little (a join not yet heard of) only make the shift approximate for a while.
 * Insert and remove are O(n) typed-array moves (joins and reaps are rare); lookups are binary searches.
 */
import { sharedMemberNumbers } from './member-table.js'
import type { MemberNumbers } from './member-table.js'

/** The position key of a member in the probe order: a 32-bit hash of its id, the same on every peer. */
export function probeOrderKey (id: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193)
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

export class ProbeOrder {
  readonly numbers: MemberNumbers
  /** Member numbers (see member-table.ts) and their keys, sorted by (key, id); typed arrays: 8 bytes a member. */
  #nums = new Int32Array(16)
  #keys = new Uint32Array(16)
  #size = 0
  /** Bumped by every insert and remove, so callers can cache positions. */
  version = 0

  constructor (numbers: MemberNumbers = sharedMemberNumbers) {
    this.numbers = numbers
  }

  get size (): number { return this.#size }

  at (index: number): string { return this.numbers.string(this.#nums[index]) }

  /** The member number at `index`. */
  numberAt (index: number): number { return this.#nums[index] }

  /** Position of `id`, or -1. */
  indexOf (id: string): number {
    const i = this.#search(probeOrderKey(id), id)
    return i < this.#size && this.at(i) === id ? i : -1
  }

  insert (id: string): void {
    const key = probeOrderKey(id)
    const i = this.#search(key, id)
    if (i < this.#size && this.at(i) === id) return
    if (this.#size === this.#nums.length) {
      const nums = new Int32Array(this.#size * 2)
      nums.set(this.#nums)
      this.#nums = nums
      const keys = new Uint32Array(this.#size * 2)
      keys.set(this.#keys)
      this.#keys = keys
    }
    this.#nums.copyWithin(i + 1, i, this.#size)
    this.#keys.copyWithin(i + 1, i, this.#size)
    this.#nums[i] = this.numbers.number(id)
    this.#keys[i] = key
    this.#size++
    this.version++
  }

  remove (id: string): void {
    const i = this.indexOf(id)
    if (i < 0) return
    this.#nums.copyWithin(i, i + 1, this.#size)
    this.#keys.copyWithin(i, i + 1, this.#size)
    this.#size--
    this.version++
  }

  /** First position whose (key, id) is >= the given one. */
  #search (key: number, id: string): number {
    let lo = 0
    let hi = this.#size
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const k = this.#keys[mid]
      if (k < key || (k === key && this.at(mid) < id)) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
