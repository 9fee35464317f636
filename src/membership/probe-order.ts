/**
 * The shared probe order: every known member (tombstones included), sorted by a hash of its id. SWIM
 * probes round-robin over a shuffled list; here the shuffle is the same on every peer (a hash, not a
 * private random draw), and in round r the member at position i probes position i + probeOffset(r, n).
 * All peers use the same offset in a round, so one round's probes are a cyclic shift of the list: each
 * member is probed by exactly one peer per round (independent shuffles would leave a member unprobed for
 * k rounds with probability ~e^-k), while each peer still probes every other member once per n - 1 rounds.
 *
 * Views that differ a little (a join not yet heard of) only make the shift approximate for a while.
 *
 * Inserts are batched: a new member goes to a small pending list, and the next read sorts that list and
 * merges it into the order from the back in one O(n + k log k) pass. One insert at a time was an O(n)
 * move each, and in a mass join every peer inserts every joiner: at 10,000 simulated peers that is 10^8
 * inserts of ~40 KB moves (minutes of memmove), where batching costs one merge per probe period. Removes
 * (reaps, rare) are O(n) moves; lookups are binary searches.
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
  /** Inserted but not merged yet (unsorted, may hold duplicates of each other or of merged members). */
  #pendingNums: number[] = []
  #pendingKeys: number[] = []
  /** Bumped by every insert and remove, so callers can cache positions. */
  version = 0

  constructor (numbers: MemberNumbers = sharedMemberNumbers) {
    this.numbers = numbers
  }

  get size (): number { this.#merge(); return this.#size }

  at (index: number): string { this.#merge(); return this.numbers.string(this.#nums[index]) }

  /** The member number at `index`. */
  numberAt (index: number): number { this.#merge(); return this.#nums[index] }

  /** Position of `id`, or -1. */
  indexOf (id: string): number {
    this.#merge()
    const i = this.#search(probeOrderKey(id), id)
    return i < this.#size && this.#idAt(i) === id ? i : -1
  }

  insert (id: string): void {
    this.#pendingNums.push(this.numbers.number(id))
    this.#pendingKeys.push(probeOrderKey(id))
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

  #idAt (i: number): string { return this.numbers.string(this.#nums[i]) }

  /** Sorts the pending inserts and merges them in (from the back, so nothing is moved twice). */
  #merge (): void {
    const k = this.#pendingNums.length
    if (k === 0) return
    const pendingNums = this.#pendingNums
    const pendingKeys = this.#pendingKeys
    this.#pendingNums = []
    this.#pendingKeys = []
    const idx: number[] = []
    for (let j = 0; j < k; j++) {
      // skip members already in the order (an insert of a known id is a no-op, as it always was)
      const id = this.numbers.string(pendingNums[j])
      const at = this.#search(pendingKeys[j], id)
      if (at < this.#size && this.#nums[at] === pendingNums[j]) continue
      idx.push(j)
    }
    idx.sort((a, b) => pendingKeys[a] - pendingKeys[b] || compareStrings(this.numbers.string(pendingNums[a]), this.numbers.string(pendingNums[b])))
    // drop duplicates among the pending ones (now adjacent)
    let unique = 0
    for (let j = 0; j < idx.length; j++) {
      if (unique > 0 && pendingNums[idx[unique - 1]] === pendingNums[idx[j]]) continue
      idx[unique++] = idx[j]
    }
    if (unique === 0) return
    const size = this.#size + unique
    if (size > this.#nums.length) {
      const capacity = Math.max(size, this.#nums.length * 2)
      const nums = new Int32Array(capacity)
      nums.set(this.#nums.subarray(0, this.#size))
      this.#nums = nums
      const keys = new Uint32Array(capacity)
      keys.set(this.#keys.subarray(0, this.#size))
      this.#keys = keys
    }
    const nums = this.#nums
    const keys = this.#keys
    let a = this.#size - 1
    let b = unique - 1
    for (let w = size - 1; b >= 0; w--) {
      const pj = idx[b]
      const pk = pendingKeys[pj]
      if (a >= 0 && (keys[a] > pk || (keys[a] === pk && compareStrings(this.#idAt(a), this.numbers.string(pendingNums[pj])) > 0))) {
        nums[w] = nums[a]
        keys[w] = keys[a]
        a--
      } else {
        nums[w] = pendingNums[pj]
        keys[w] = pk
        b--
      }
    }
    this.#size = size
  }

  /** First position whose (key, id) is >= the given one. */
  #search (key: number, id: string): number {
    let lo = 0
    let hi = this.#size
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const k = this.#keys[mid]
      if (k < key || (k === key && this.#idAt(mid) < id)) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

function compareStrings (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
