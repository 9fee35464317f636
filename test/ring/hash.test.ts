import { describe, expect, it } from 'vitest'
import { hashToPoint, keyPoint, namespaceSeed, RING_SIZE, vnodePoint, xxh64 } from '../../src/ring/hash.js'

describe('ring hash', () => {
  it('is the reference XXH64 (so every peer, in any language, computes the same points)', () => {
    // Test vectors from the xxHash reference implementation.
    expect(xxh64('')).toBe(0xef46db3751d8e999n)
    expect(xxh64('abc')).toBe(0x44bc2cf5ad770999n)
    expect(xxh64(new TextEncoder().encode('abc'))).toBe(0x44bc2cf5ad770999n)
  })

  it.each([
    [0n, 0],
    [0xfffn, 0],
    [0x1000n, 1],
    [0xffff_ffff_ffff_ffffn, RING_SIZE - 1],
    [0x8000_0000_0000_0000n, RING_SIZE / 2]
  ])('hashToPoint(%s) keeps the top 52 bits: %s', (hash, point) => {
    expect(hashToPoint(hash)).toBe(point)
  })

  it('places a key at top52(xxh64(key, seed = xxh64(namespace)))', () => {
    expect(keyPoint('default', 'hello')).toBe(hashToPoint(xxh64('hello', xxh64('default'))))
    expect(namespaceSeed('default')).toBe(xxh64('default'))
    // Pinned: a change here changes where every key lives, and peers of two versions would disagree.
    expect(keyPoint('default', 'hello')).toBe(3712992337950950)
  })

  it('places vnode i of a peer at top52(xxh64(peerId, seed = i))', () => {
    expect(vnodePoint('peer-a', 0)).toBe(hashToPoint(xxh64('peer-a', 0n)))
    expect(vnodePoint('peer-a', 1)).toBe(1367018642012444)
    expect(vnodePoint('peer-a', 0)).not.toBe(vnodePoint('peer-a', 1))
  })

  it('hashes a string key as its UTF-8 bytes', () => {
    for (const key of ['', 'plain', 'clé', '鍵', '🔑']) {
      expect(keyPoint('ns', new TextEncoder().encode(key))).toBe(keyPoint('ns', key))
    }
  })

  it('keeps namespaces apart without a separator that a key could contain', () => {
    expect(keyPoint('a', 'bc')).not.toBe(keyPoint('ab', 'c'))
    expect(keyPoint('users', 'k')).not.toBe(keyPoint('sessions', 'k'))
  })

  it('gives the same points after the namespace seed cache has been flushed by many namespaces', () => {
    const before = keyPoint('orders', 'k1')
    for (let i = 0; i < 3000; i++) keyPoint(`ns-${i}`, 'x')
    expect(keyPoint('orders', 'k1')).toBe(before)
  })
})
