/**
 * The shared probe order: every known member (tombstones included), sorted by a hash of its id. SWIM
 * probes round-robin over a shuffled list; here the shuffle is the same on every peer (a hash, not a
 * private random draw), and in round r the member at position i probes position i + probeOffset(r, n).
 * All peers use the same offset in a round, so one round's probes are a cyclic shift of the list: each
 * member is probed by exactly one peer per round (independent shuffles would leave a member unprobed for
 * k rounds with probability ~e^-k), while each peer still probes every other member once per n - 1 rounds.
 *
 * Views that differ a little (a join not yet heard of) only make the shift approximate for a while.
 * Insert and remove are O(n) array moves (joins and reaps are rare); lookups are binary searches.
 */

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
  readonly #ids: string[] = []
  readonly #keys: number[] = []
  /** Bumped by every insert and remove, so callers can cache positions. */
  version = 0

  get size (): number { return this.#ids.length }

  at (index: number): string { return this.#ids[index] }

  /** Position of `id`, or -1. */
  indexOf (id: string): number {
    const i = this.#search(probeOrderKey(id), id)
    return i < this.#ids.length && this.#ids[i] === id ? i : -1
  }

  insert (id: string): void {
    const key = probeOrderKey(id)
    const i = this.#search(key, id)
    if (i < this.#ids.length && this.#ids[i] === id) return
    this.#ids.splice(i, 0, id)
    this.#keys.splice(i, 0, key)
    this.version++
  }

  remove (id: string): void {
    const i = this.indexOf(id)
    if (i < 0) return
    this.#ids.splice(i, 1)
    this.#keys.splice(i, 1)
    this.version++
  }

  /** First position whose (key, id) is >= the given one. */
  #search (key: number, id: string): number {
    let lo = 0
    let hi = this.#ids.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const k = this.#keys[mid]
      if (k < key || (k === key && this.#ids[mid] < id)) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
