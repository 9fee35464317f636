/**
 * Random: one seeded PRNG, forked per subsystem by label (TigerBeetle's "one seed drives everything").
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state, passes
 * PractRand), seeded through splitmix32 so that any 32-bit seed gives a well-mixed state. `fork(label)`
 * derives the child's seed from the parent's *seed* and the label, never from the parent's stream, so
 * adding a fork or drawing more numbers in one subsystem does not shift the numbers another one sees.
 */
export interface Random {
  /** The seed this generator was created from (print it so a run can be replayed). */
  readonly seed: number
  /** Uniform float in [0, 1). */
  next(): number
  /** Uniform unsigned 32-bit integer. */
  uint32(): number
  /** Uniform integer in [0, n), n >= 1. */
  int(n: number): number
  /** True with probability p. */
  chance(p: number): boolean
  /** A new generator whose stream depends only on this seed and the label. */
  fork(label: string): Random
  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[]
  /** One element chosen uniformly; undefined for an empty array. */
  pick<T>(items: readonly T[]): T | undefined
  /** n random bytes. */
  bytes(n: number): Uint8Array
}

export class SeededRandom implements Random {
  readonly seed: number
  #a: number
  #b: number
  #c: number
  #d: number

  constructor (seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`Random seed must be an integer in [0, 2^32), got ${seed}`)
    }
    this.seed = seed
    let s = seed >>> 0
    const split = (): number => {
      s = (s + 0x9e3779b9) | 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.#a = split(); this.#b = split(); this.#c = split(); this.#d = split()
    for (let i = 0; i < 12; i++) this.uint32()
  }

  uint32 (): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0
    this.#d = (this.#d + 1) | 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) | 0
    this.#c = (this.#c << 21) | (this.#c >>> 11)
    this.#c = (this.#c + t) | 0
    return t >>> 0
  }

  next (): number { return this.uint32() / 4294967296 }

  int (n: number): number {
    if (!(n >= 1)) throw new RangeError(`Random.int: n must be >= 1, got ${n}`)
    return Math.floor(this.next() * n)
  }

  chance (p: number): boolean { return p > 0 && this.next() < p }

  fork (label: string): Random { return new SeededRandom(hashLabel(this.seed, label)) }

  shuffle<T> (items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const tmp = items[i]; items[i] = items[j]; items[j] = tmp
    }
    return items
  }

  pick<T> (items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[this.int(items.length)]
  }

  bytes (n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i += 4) {
      const v = this.uint32()
      for (let k = 0; k < 4 && i + k < n; k++) out[i + k] = (v >>> (8 * k)) & 0xff
    }
    return out
  }
}

/** FNV-1a over the label's UTF-16 code units, mixed with the parent seed. */
function hashLabel (seed: number, label: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 15; h = Math.imul(h, 0x2c1b3c6d); h ^= h >>> 12
  return h >>> 0
}

/** A generator seeded from the operating system's entropy (for real peers; print its seed if it matters). */
export async function systemRandom (): Promise<Random> {
  const { randomInt } = await import('node:crypto')
  return new SeededRandom(randomInt(0, 2 ** 32 - 1))
}
