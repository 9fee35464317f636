/**
 * Frequency sketch for TinyLFU admission (Einziger, Friedman, Manes: "TinyLFU: A Highly Efficient Cache
 * Admission Policy", 2017), laid out like Caffeine's `FrequencySketch`.
 *
 * A count-min sketch of depth 4 with 4-bit counters (saturating at 15), eight counters per int32 word. An
 * item's four counters all live in one 64-byte block of 16 words (one cache line): the block is chosen by
 * one hash of the key, and each of the four rows picks one of its own four words and one of the word's
 * eight counters from a second hash. The estimate is the minimum of the four counters.
 *
 * Aging ("reset" in the paper): after `10 × capacity` increments that changed a counter, every counter is
 * halved, so the sketch forgets old popularity and keeps the counts of the last sample window. This is one
 * pass over the table (one word per entry of capacity); amortised, a tenth of a word per increment.
 *
 * Sizing: 8 counters per expected entry (capacity rounded up to a power of two), half of Caffeine's 16:
 * measured on the store benchmark's Zipf traces it costs 0.1–0.3 points of hit ratio, and saves 4 bytes
 * per entry and cache misses on every read. `ensureCapacity` grows the table as the store grows; growing
 * discards the counts (as Caffeine does), which happens only log2(n) times over a store's life.
 */

/** Counters per expected entry; each int32 word holds 8. */
const COUNTERS_PER_ENTRY = 8
const WORDS_PER_BLOCK = 16
/** Aging period as a multiple of the capacity: the sample size W = 10 × C of the TinyLFU paper. */
export const SAMPLE_FACTOR = 10

/** The sample size after which all counters are halved, for a sketch sized for `capacity` entries. */
export function sampleSize (capacity: number): number {
  return SAMPLE_FACTOR * capacity
}

/** Halves every 4-bit counter of a word: shift right, then clear the bit that crossed from the next counter. */
export function halveCounters (word: number): number {
  return (word >>> 1) & 0x77777777
}

/** Number of odd counters in a word (each loses half a count when halved). */
export function oddCounters (word: number): number {
  let w = word & 0x11111111
  w = (w + (w >>> 4)) & 0x0f0f0f0f
  w = w + (w >>> 8)
  w = w + (w >>> 16)
  return w & 0x3f
}

export class FrequencySketch {
  #table = new Int32Array(WORDS_PER_BLOCK)
  #blockMask = 0
  #capacity = 0
  #sampleSize = 0
  #size = 0

  /** @param capacity - expected number of distinct entries (the store's entry count); grows later */
  constructor (capacity = 0) {
    this.ensureCapacity(capacity)
  }

  /** The entry count the table is sized for (a power of two). */
  get capacity (): number { return this.#capacity }

  /** Increments counted since the last aging. */
  get size (): number { return this.#size }

  /** Sizes the table for `entries` distinct items (a no-op when already big enough). Drops counts when it grows. */
  ensureCapacity (entries: number): void {
    const wanted = nextPowerOfTwo(Math.max(entries, 16))
    if (wanted <= this.#capacity) return
    const words = Math.max(WORDS_PER_BLOCK, (wanted * COUNTERS_PER_ENTRY) / 8)
    this.#table = new Int32Array(words)
    this.#blockMask = words / WORDS_PER_BLOCK - 1
    this.#capacity = wanted
    this.#sampleSize = sampleSize(wanted)
    this.#size = 0
  }

  /** Estimated number of times `hash` was seen in the current sample window (0..15). */
  frequency (hash: number): number {
    const table = this.#table
    const block = (blockHash(hash) & this.#blockMask) << 4
    const r = rowHash(hash)
    let min = 15
    for (let i = 0; i < 4; i++) {
      const bits = r >>> (i << 3)
      const count = (table[block + (i << 2) + (bits & 3)] >>> (((bits >>> 2) & 7) << 2)) & 15
      if (count < min) min = count
    }
    return min
  }

  /** Records one occurrence of `hash`; ages the sketch when the sample window is full. */
  increment (hash: number): void {
    const table = this.#table
    const block = (blockHash(hash) & this.#blockMask) << 4
    const r = rowHash(hash)
    let added = false
    for (let i = 0; i < 4; i++) {
      const bits = r >>> (i << 3)
      const index = block + (i << 2) + (bits & 3)
      const shift = ((bits >>> 2) & 7) << 2
      if (((table[index] >>> shift) & 15) < 15) {
        table[index] += 1 << shift
        added = true
      }
    }
    if (added && ++this.#size >= this.#sampleSize) this.reset()
  }

  /** Halves every counter (the paper's reset); called automatically, public for tests. */
  reset (): void {
    const table = this.#table
    let odd = 0
    for (let i = 0; i < table.length; i++) {
      odd += oddCounters(table[i])
      table[i] = halveCounters(table[i])
    }
    this.#size = Math.max(0, (this.#size - (odd >>> 2)) >>> 1)
  }

  /** Forgets every count. */
  clear (): void {
    this.#table.fill(0)
    this.#size = 0
  }
}

function blockHash (hash: number): number {
  const h = Math.imul(hash, 0x9e3779b1)
  return h ^ (h >>> 15)
}

function rowHash (hash: number): number {
  let h = Math.imul(hash ^ (hash >>> 16), 0x7feb352d)
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b)
  return h ^ (h >>> 16)
}

function nextPowerOfTwo (n: number): number {
  let p = 1
  while (p < n) p *= 2
  return p
}
