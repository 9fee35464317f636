import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { hashKey, hashStoredKey, isLatin1, storedKeyBytes, utf8Length } from '../../src/storage/key.js'

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
