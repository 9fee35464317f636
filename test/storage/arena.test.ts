import { describe, expect, it } from 'vitest'
import {
  addressOf, align8, Arena, chunkOf, MAX_CHUNK_BYTES, newCursor, offsetOf, shouldCompact, type ArenaOwner
} from '../../src/storage/arena.js'

/** A toy owner: record = [int32 length][int32 live flag][int32 id][payload], payload bytes all = id. */
class Owner implements ArenaOwner {
  arena!: Arena
  readonly where = new Map<number, number>()
  moves = 0

  recordBytes (chunk: Int32Array, offset: number): number { return chunk[offset >>> 2] }
  isLive (chunk: Int32Array, offset: number): boolean { return chunk[(offset >>> 2) + 1] === 1 }
  moved (from: number, to: number): void {
    const id = this.#i32(to)[(offsetOf(to) >>> 2) + 2]
    this.where.set(id, to)
    this.#i32(from)[(offsetOf(from) >>> 2) + 1] = 0
    this.moves++
  }

  add (id: number, payload: number): number {
    const length = align8(12 + payload)
    const a = this.arena.allocate(length)
    const i32 = this.#i32(a)
    const o = offsetOf(a)
    i32[o >>> 2] = length
    i32[(o >>> 2) + 1] = 1
    i32[(o >>> 2) + 2] = id
    this.arena.u8[chunkOf(a)].fill(id & 0xff, o + 12, o + 12 + payload)
    this.where.set(id, a)
    return a
  }

  remove (id: number): void {
    const a = this.where.get(id)!
    const i32 = this.#i32(a)
    i32[(offsetOf(a) >>> 2) + 1] = 0
    this.where.delete(id)
    this.arena.kill(a, i32[offsetOf(a) >>> 2])
  }

  /** A view of the payload, as the store hands out values. */
  view (id: number, payload: number): Uint8Array {
    const a = this.where.get(id)!
    this.arena.expose(chunkOf(a))
    return new Uint8Array(this.arena.u8[chunkOf(a)].buffer, offsetOf(a) + 12, payload)
  }

  #i32 (a: number): Int32Array { return this.arena.i32[chunkOf(a)] }
}

function setup (chunkBytes = 1024): { arena: Arena, owner: Owner } {
  const owner = new Owner()
  const arena = new Arena(chunkBytes, owner)
  owner.arena = arena
  return { arena, owner }
}

describe('addresses', () => {
  it('round-trip chunk and 8-aligned offset', () => {
    for (const [c, o] of [[0, 0], [1, 8], [4095, MAX_CHUNK_BYTES - 8], [17, 4096]]) {
      const a = addressOf(c, o)
      expect(a).toBeGreaterThanOrEqual(0)
      expect(chunkOf(a)).toBe(c)
      expect(offsetOf(a)).toBe(o)
    }
  })

  it.each([
    [1000, 1000, 64, false], // no garbage
    [1300, 1000, 64, true], // 30% garbage, more than 2 chunks
    [1200, 1000, 64, false], // 20% garbage: under the ratio
    [1300, 1000, 256, false] // 300 bytes garbage is under two 256-byte chunks
  ])('shouldCompact(held %i, live %i, chunk %i) = %s', (held, live, chunk, expected) => {
    expect(shouldCompact(held, live, chunk)).toBe(expected)
  })
})

describe('Arena', () => {
  it('appends into chunks, accounts live bytes and drops a chunk once all its records are dead', () => {
    const { arena, owner } = setup(1024)
    for (let id = 0; id < 20; id++) owner.add(id, 100) // 112-byte records, 9 per chunk
    expect(arena.liveBytes).toBe(20 * 112)
    expect(arena.chunkCount).toBe(3)
    for (let id = 0; id < 9; id++) owner.remove(id)
    expect(arena.chunkCount).toBe(2)
    expect(arena.heldBytes).toBe(2 * 1024)
    expect(arena.liveBytes).toBe(11 * 112)
  })

  it('gives a record over a quarter chunk a buffer of its own', () => {
    const { arena, owner } = setup(1024)
    owner.add(1, 500)
    expect(arena.heldBytes).toBe(align8(512))
    owner.add(2, 10)
    expect(arena.heldBytes).toBe(align8(512) + 1024)
  })

  it('compacts the emptiest chunk within a budget and keeps handed-out views unchanged', () => {
    const { arena, owner } = setup(1024)
    for (let id = 0; id < 90; id++) owner.add(id, 100) // 10 chunks
    const views = new Map<number, Uint8Array>()
    for (let id = 0; id < 90; id += 3) views.set(id, owner.view(id, 100))
    for (let id = 0; id < 90; id++) if (id % 3 !== 0) owner.remove(id) // 2/3 garbage everywhere
    expect(arena.needsCompaction()).toBe(true)
    const moved = arena.compact(200)
    expect(moved).toBeGreaterThan(0)
    expect(moved).toBeLessThanOrEqual(200 + 112)
    while (arena.needsCompaction()) arena.compact(4096)
    expect(arena.heldBytes - arena.liveBytes).toBeLessThanOrEqual(0.25 * arena.liveBytes + 2 * 1024)
    expect(owner.moves).toBeGreaterThan(0)
    for (const [id, view] of views) {
      expect(view.every((b) => b === id)).toBe(true)
      // and the record, wherever it is now, still holds the same payload
      const fresh = owner.view(id, 100)
      expect(fresh.every((b) => b === id)).toBe(true)
    }
  })

  it('walks every live record in creation order, across compaction, with a cursor', () => {
    const { arena, owner } = setup(1024)
    for (let id = 0; id < 50; id++) owner.add(id, 50)
    for (let id = 0; id < 50; id += 2) owner.remove(id)
    const cursor = newCursor()
    const seen = new Set<number>()
    const idAt = (a: number): number => arena.i32[chunkOf(a)][(offsetOf(a) >>> 2) + 2]
    for (let i = 0; i < 5; i++) seen.add(idAt(arena.next(cursor)))
    while (arena.needsCompaction()) arena.compact(10_000)
    for (let a = arena.next(cursor); a >= 0; a = arena.next(cursor)) seen.add(idAt(a))
    expect([...seen].sort((x, y) => x - y)).toEqual(Array.from({ length: 25 }, (_, i) => 2 * i + 1))
  })

  it('reuses the buffer of a dropped chunk only if no view of it was handed out', () => {
    const { arena, owner } = setup(1024)
    for (let id = 0; id < 9; id++) owner.add(id, 100)
    const firstBuffer = arena.u8[0].buffer
    owner.add(100, 100) // opens chunk 1, chunk 0 is full
    for (let id = 0; id < 9; id++) owner.remove(id) // chunk 0 dropped, unexposed: pooled
    for (let id = 200; id < 209; id++) owner.add(id, 100) // fills chunk 1, opens a new chunk
    expect(arena.u8.some((u8) => u8.buffer === firstBuffer)).toBe(true)

    const exposed = setup(1024)
    for (let id = 0; id < 9; id++) exposed.owner.add(id, 100)
    const view = exposed.owner.view(4, 100)
    const buffer = exposed.arena.u8[0].buffer
    exposed.owner.add(100, 100)
    for (let id = 0; id < 9; id++) exposed.owner.remove(id)
    for (let id = 200; id < 230; id++) exposed.owner.add(id, 100)
    expect(exposed.arena.u8.some((u8) => u8.buffer === buffer)).toBe(false)
    expect(view.every((b) => b === 4)).toBe(true)
  })
})
