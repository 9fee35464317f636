/**
 * The key index of the local store: an open-addressing hash table from a key to the address of its entry
 * record (live, expired or tombstone). Linear probing, power-of-two size, load at most 0.7, deletion by
 * backward shift (Knuth, TAOCP vol. 3, 6.4, algorithms L and R), so the table never holds deletion
 * markers and a probe run always ends at an empty cell.
 *
 * A cell is (32-bit key hash, entry address) in one Int32Array. Probing compares hashes in the table; an
 * entry record is read only when the hash matches, and then its stored key bytes are compared with the key
 * being looked up (`KeyBuffer`, `key.ts`), four bytes at a time. Entries do not store their hash: growing
 * the table uses the hashes in the cells, and whoever deletes or moves an entry recomputes its hash from
 * the key bytes (`hashAt` in `record.ts`).
 *
 * Invariants (checked by `check`): exactly one cell per indexed entry, holding that entry's hash; no
 * empty cell between a cell's home (`hash & mask`) and the cell; `size` cells used, at most 0.7 of them.
 */
import { OFFSET_BITS, OFFSET_MASK, type Arena } from './arena.js'
import type { KeyBuffer } from './key.js'
import { INFO, KEY_BYTES, LATIN1 } from './record.js'

const MAX_LOAD = 0.7
const MIN_TABLE_CELLS = 64

export class KeyIndex {
  readonly #entries: Arena
  readonly #key: KeyBuffer
  readonly #metaBytes: number
  // Cell i is (hash at 2i, entry address at 2i + 1); address -1 = empty.
  #table = newTable(MIN_TABLE_CELLS)
  #mask = MIN_TABLE_CELLS - 1
  #count = 0

  /** An index of the entry records in `entries`, whose keys start `metaBytes` into the record. */
  constructor (entries: Arena, key: KeyBuffer, metaBytes: number) {
    this.#entries = entries
    this.#key = key
    this.#metaBytes = metaBytes
  }

  /** Entries indexed. */
  get size (): number { return this.#count }

  /** Address of the entry holding the key last read into the `KeyBuffer` (its hash `h`), or -1. */
  find (h: number): number {
    const table = this.#table
    const mask = this.#mask
    const i32 = this.#entries.i32
    const u8 = this.#entries.u8
    const metaBytes = this.#metaBytes
    const key = this.#key
    const want = key.storedBytes | (key.latin1 ? LATIN1 : 0)
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const a = table[2 * i + 1]
      if (a < 0) return -1
      if (table[2 * i] !== h) continue
      const c = a >>> OFFSET_BITS
      const words = i32[c]
      // Same stored length and form (a key is stored Latin-1 exactly when all its code units are < 256).
      if ((words[((a & OFFSET_MASK) << 1) + INFO] & (KEY_BYTES | LATIN1)) !== want) continue
      if (key.equals(u8[c], words, ((a & OFFSET_MASK) << 3) + metaBytes)) return a
    }
  }

  /** Indexes entry `a`, whose key hashes to `h` and is not indexed yet; grows the table first if needed. */
  insert (a: number, h: number): void {
    if (this.#count + 1 > (this.#mask + 1) * MAX_LOAD) this.#grow()
    const table = this.#table
    const mask = this.#mask
    let i = h & mask
    while (table[2 * i + 1] >= 0) i = (i + 1) & mask
    table[2 * i] = h
    table[2 * i + 1] = a
    this.#count++
  }

  /** Unindexes entry `a` (hash `h`): linear-probing deletion by backward shift. */
  delete (a: number, h: number): void {
    const table = this.#table
    const mask = this.#mask
    let i = h & mask
    while (table[2 * i + 1] !== a) i = (i + 1) & mask
    let j = i
    for (;;) {
      j = (j + 1) & mask
      const t = table[2 * j + 1]
      if (t < 0) break
      const home = table[2 * j] & mask
      // The cell at `j` may move back to the hole at `i` unless its home lies cyclically in (i, j].
      const stays = i <= j ? (home > i && home <= j) : (home > i || home <= j)
      if (!stays) {
        table[2 * i] = table[2 * j]
        table[2 * i + 1] = t
        i = j
      }
    }
    table[2 * i + 1] = -1
    this.#count--
  }

  /** The entry (hash `h`) moved from address `from` to `to`. */
  repoint (from: number, to: number, h: number): void {
    const table = this.#table
    const mask = this.#mask
    let i = h & mask
    while (table[2 * i + 1] !== from) i = (i + 1) & mask
    table[2 * i + 1] = to
  }

  clear (): void {
    this.#table = newTable(MIN_TABLE_CELLS)
    this.#mask = MIN_TABLE_CELLS - 1
    this.#count = 0
  }

  /** Checks the invariants; `hashAt` recomputes an entry's hash from its record. Returns an error or null. */
  check (hashAt: (a: number) => number): string | null {
    const table = this.#table
    const mask = this.#mask
    let cells = 0
    for (let i = 0; i <= mask; i++) {
      const a = table[2 * i + 1]
      if (a < 0) continue
      cells++
      const h = table[2 * i]
      if (h !== hashAt(a)) return `table cell ${i} holds a wrong hash`
      for (let j = h & mask; j !== i; j = (j + 1) & mask) {
        if (table[2 * j + 1] < 0) return `table cell ${i} is cut off from its home cell ${h & mask}`
      }
    }
    if (cells !== this.#count) return `table holds ${cells} keys, counted ${this.#count}`
    if (cells > (mask + 1) * MAX_LOAD) return `table load ${cells} / ${mask + 1} over ${MAX_LOAD}`
    return null
  }

  /** Doubles the table (hashes are in the table: no entry is read). */
  #grow (): void {
    const old = this.#table
    const cells = (this.#mask + 1) * 2
    const table = newTable(cells)
    const mask = cells - 1
    for (let k = 1; k < old.length; k += 2) {
      const a = old[k]
      if (a < 0) continue
      const h = old[k - 1]
      let i = h & mask
      while (table[2 * i + 1] >= 0) i = (i + 1) & mask
      table[2 * i] = h
      table[2 * i + 1] = a
    }
    this.#table = table
    this.#mask = mask
  }
}

function newTable (cells: number): Int32Array {
  const table = new Int32Array(2 * cells)
  for (let i = 1; i < table.length; i += 2) table[i] = -1
  return table
}
