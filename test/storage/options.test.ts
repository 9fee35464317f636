import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/env/clock.js'
import { InvalidOptionError } from '../../src/errors.js'
import {
  DEFAULT_MAX_BYTES, defaultChunkBytes, LocalStore, protectedMaximum, windowMaximum, type LocalStoreInit
} from '../../src/storage/index.js'

const base = (): LocalStoreInit => ({ clock: new ManualClock(0), writerId: 'p1' })

describe('LocalStore options', () => {
  it('uses the documented defaults', () => {
    const stats = new LocalStore(base()).stats()
    expect(stats.maxBytes).toBe(DEFAULT_MAX_BYTES)
    expect(stats.maxEntries).toBeNull()
    expect(stats.eviction).toBe('w-tinylfu')
  })

  it.each<[string, Partial<LocalStoreInit>, RegExp]>([
    ['negative maxBytes', { maxBytes: -1 }, /maxBytes must be a positive integer/],
    ['NaN maxBytes', { maxBytes: Number.NaN }, /maxBytes must be a positive integer, got NaN/],
    ['maxBytes under one entry', { maxBytes: 50 }, /maxBytes must exceed the per-entry overhead/],
    ['maxBytes too large for the arena', { maxBytes: 2 ** 40 }, /raise arenaChunkBytes|split/],
    ['maxEntries 0', { maxEntries: 0 }, /maxEntries must be a positive integer/],
    ['fractional maxValueBytes', { maxValueBytes: 1.5 }, /maxValueBytes must be a positive integer/],
    ['maxKeyBytes over the record field', { maxKeyBytes: 40_000 }, /maxKeyBytes must be at most 32767/],
    ['unknown eviction policy', { eviction: 'lfu' as never }, /eviction must be one of 'w-tinylfu', 'lru'/],
    ['zero defaultTtlMs', { defaultTtlMs: 0 }, /defaultTtlMs must be a positive, finite number/],
    ['infinite maxIdleMs', { maxIdleMs: Infinity }, /maxIdleMs must be a positive, finite number/],
    ['negative tombstoneGraceMs', { tombstoneGraceMs: -1 }, /tombstoneGraceMs must be a finite number of milliseconds >= 0/],
    ['empty writerId', { writerId: '' }, /writerId must be a non-empty string/],
    ['missing clock', { clock: undefined as never }, /clock is required/],
    ['onRemove not a function', { onRemove: 'log' as never }, /onRemove must be a function/],
    ['onEntryChange not a function', { onEntryChange: {} as never }, /onEntryChange must be a function/],
    ['hashSeed not an integer', { hashSeed: 0.5 }, /hashSeed must be a 32-bit integer/],
    ['arenaChunkBytes too large', { arenaChunkBytes: 8 * 1024 * 1024 }, /arenaChunkBytes must be a multiple of 8 between/]
  ])('refuses %s with a message that says how to fix it', (_name, bad, message) => {
    const attempt = (): LocalStore => new LocalStore({ ...base(), ...bad })
    expect(attempt).toThrow(InvalidOptionError)
    expect(attempt).toThrow(message)
  })
})

describe('derived sizes', () => {
  it.each([
    [1024, 4096], [64 * 1024 * 1024, 4 * 1024 * 1024], [1024 * 1024, 65536], [10 * 1024 * 1024 * 1024, 4 * 1024 * 1024]
  ])('chunk size for maxBytes %i is %i', (maxBytes, chunk) => {
    expect(defaultChunkBytes(maxBytes)).toBe(chunk)
  })

  it.each([
    // capacity, counting entries?, window, protected
    [100, true, 1, 79],
    [10_000, true, 100, 7920],
    [1_000_000, false, 10_000, 792_000],
    [50, false, 0, 40]
  ])('W-TinyLFU segments for capacity %i (entries: %s): window %i, protected %i', (max, entries, window, prot) => {
    expect(windowMaximum(max, entries)).toBe(window)
    expect(protectedMaximum(max, window)).toBe(prot)
  })
})
