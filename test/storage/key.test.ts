import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { hashKey, hashStoredKey, isLatin1, KeyBuffer, storedKeyBytes, utf8Length } from '../../src/storage/key.js'

describe('hashKey', () => {
  it('is a deterministic 32-bit integer that depends on the seed', () => {
    expect(hashKey('user:42', 1)).toBe(hashKey('user:42', 1))
    expect(hashKey('user:42', 1)).not.toBe(hashKey('user:42', 2))
    expect(Number.isInteger(hashKey('x', 0))).toBe(true)
    expect(hashKey('x', 0) | 0).toBe(hashKey('x', 0))
  })

  it('tells apart keys that differ in one character, or only in length', () => {
    const keys = ['a', 'b', 'ab', 'ba', 'abc', 'abd', 'a\u0000', '\u0000a', 'é', '€', '😀']
    const hashes = new Set(keys.map((k) => hashKey(k, 7)))
    expect(hashes.size).toBe(keys.length)
  })

  it('spreads sequential keys over the low bits (used as table index)', () => {
    const buckets = new Array<number>(1024).fill(0)
    for (let i = 0; i < 100_000; i++) buckets[hashKey(`key:${i}`, 0) & 1023]++
    // 100k keys in 1024 buckets: mean ~98; a poor hash leaves buckets empty or doubles some.
    expect(Math.min(...buckets)).toBeGreaterThan(50)
    expect(Math.max(...buckets)).toBeLessThan(150)
  })
})

describe('stored key bytes', () => {
  it.each([
    ['ascii', 'user:1', true, 6],
    ['latin-1 accents', 'café', true, 4],
    ['euro sign (U+20AC)', '€1', false, 4],
    ['emoji (surrogate pair)', '😀', false, 4]
  ])('%s', (_name, key, latin1, bytes) => {
    expect(isLatin1(key)).toBe(latin1)
    expect(storedKeyBytes(key)).toBe(bytes)
  })

  it('measures UTF-8 length like Buffer.byteLength (the wire measure), at most 2x the stored length', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (key) => {
      expect(utf8Length(key)).toBe(Buffer.byteLength(key, 'utf8'))
      expect(storedKeyBytes(key)).toBeLessThanOrEqual(2 * utf8Length(key))
    }), { seed: 11, numRuns: 500 })
  })
})

describe('hashStoredKey', () => {
  it('hashes stored Latin-1 and UTF-16LE bytes exactly like hashKey hashes the string', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', minLength: 1 }), fc.integer(), (key, seed) => {
      const latin1 = isLatin1(key)
      const buf = new Uint8Array(3 + storedKeyBytes(key))
      for (let i = 0; i < key.length; i++) {
        const c = key.charCodeAt(i)
        if (latin1) buf[3 + i] = c
        else { buf[3 + 2 * i] = c & 0xff; buf[4 + 2 * i] = c >>> 8 }
      }
      expect(hashStoredKey(buf, 3, key.length, latin1, seed)).toBe(hashKey(key, seed))
    }), { seed: 5, numRuns: 500 })
  })
})

describe('KeyBuffer', () => {
  /** The stored form of `key`, as the store lays it out, 8 bytes into a buffer (records are 8-aligned). */
  function stored (key: string): { bytes: Uint8Array, words: Int32Array } {
    const buffer = new ArrayBuffer((2 * key.length + 31) & ~7)
    const bytes = new Uint8Array(buffer)
    const latin1 = isLatin1(key)
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i)
      if (latin1) bytes[8 + i] = c
      else { bytes[8 + 2 * i] = c & 0xff; bytes[9 + 2 * i] = c >>> 8 }
    }
    return { bytes, words: new Int32Array(buffer) }
  }

  it('reads a key in one pass: the same hash as hashKey, its stored form and length', () => {
    const kb = new KeyBuffer(64, 0)
    fc.assert(fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }), fc.integer(), (key, seed) => {
      const mine = new KeyBuffer(64, seed)
      expect(mine.read(key)).toBe(hashKey(key, seed))
      expect(mine.latin1).toBe(isLatin1(key))
      expect(mine.storedBytes).toBe(storedKeyBytes(key))
      const { bytes, words } = stored(key)
      expect(mine.equals(bytes, words, 8)).toBe(true)
      // A key read before does not leak into the next one's stored form.
      kb.read('\u20ac'.repeat(64))
      kb.read(key)
      expect(kb.equals(bytes, words, 8)).toBe(true)
    }), { seed: 3, numRuns: 500 })
  })

  it('tells apart keys of the same stored length that differ in any byte, the tail bytes included', () => {
    const kb = new KeyBuffer(32, 9)
    const base = 'key:000000000042x' // 17 bytes: 4 words and a tail byte
    for (let i = 0; i < base.length; i++) {
      const other = base.slice(0, i) + String.fromCharCode(base.charCodeAt(i) ^ 1) + base.slice(i + 1)
      kb.read(base)
      const { bytes, words } = stored(other)
      expect(kb.equals(bytes, words, 8)).toBe(false)
    }
  })

  it('copies the stored form into a record, and an equal key then compares equal', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), (key) => {
      const kb = new KeyBuffer(40, 1)
      kb.read(key)
      const words = new Int32Array(4 + ((2 * key.length + 7) >> 2))
      kb.copyTo(words, 8)
      const bytes = new Uint8Array(words.buffer)
      expect(Array.from(bytes.subarray(8, 8 + kb.storedBytes))).toEqual(Array.from(stored(key).bytes.subarray(8, 8 + kb.storedBytes)))
      const again = new KeyBuffer(40, 1)
      again.read(key)
      expect(again.equals(bytes, words, 8)).toBe(true)
    }), { seed: 4, numRuns: 300 })
  })
})
