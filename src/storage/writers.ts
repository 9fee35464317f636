/**
 * Writer ids of the local store, interned: an entry's version names its writer by a 16-bit index (in the
 * entry record's VER field) instead of holding the id string. Index 0 is this peer, pinned; other ids
 * are reference-counted by the entries whose version names them, and an index whose last entry went is
 * reused.
 *
 * Invariants: `idOf(i)` is the id interned at `i` while any entry names `i`; an id is interned at one
 * index at most; at most 65,536 ids at a time (`ERR_TOO_MANY_WRITERS` beyond).
 */
import { MeshcacheError } from '../errors.js'

export const MAX_WRITERS = 0x10000

export class WriterTable {
  readonly #ids: string[]
  readonly #refs: number[]
  readonly #index = new Map<string, number>()
  readonly #free: number[] = []

  /** A table with `own` (this peer's id) pinned at index 0. */
  constructor (own: string) {
    this.#ids = [own]
    this.#refs = [1]
    this.#index.set(own, 0)
  }

  /** The index of `writerId`, interning it (with no references yet) if it is new. */
  intern (writerId: string): number {
    const known = this.#index.get(writerId)
    if (known !== undefined) return known
    let index: number
    if (this.#free.length > 0) {
      index = this.#free.pop()!
      this.#ids[index] = writerId
      this.#refs[index] = 0
    } else {
      index = this.#ids.length
      if (index >= MAX_WRITERS) {
        throw new MeshcacheError('ERR_TOO_MANY_WRITERS', `LocalStore holds entries from ${MAX_WRITERS} distinct writers, its limit`)
      }
      this.#ids.push(writerId)
      this.#refs.push(0)
    }
    this.#index.set(writerId, index)
    return index
  }

  /** An entry now names `index`. */
  retain (index: number): void {
    this.#refs[index]++
  }

  /** An entry no longer names `index`; the index is freed with its last reference (never index 0). */
  release (index: number): void {
    if (--this.#refs[index] === 0 && index !== 0) {
      this.#index.delete(this.#ids[index])
      this.#ids[index] = ''
      this.#free.push(index)
    }
  }

  idOf (index: number): string {
    return this.#ids[index]
  }

  /** Every entry went: only this peer's id is left. */
  clear (): void {
    this.#ids.length = 1
    this.#refs.length = 1
    this.#refs[0] = 1
    this.#index.clear()
    this.#index.set(this.#ids[0], 0)
    this.#free.length = 0
  }
}
