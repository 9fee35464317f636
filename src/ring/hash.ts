/**
 * Ring hashing: where keys and virtual nodes land on the ring.
 *
 * The hash is xxHash64 (Yann Collet's XXH64), from the `xxhash-wasm` package. On the short keys a cache
 * sees (16 ASCII bytes) it measured ~130 ns per call against ~235 ns for the native `@node-rs/xxhash`
 * (napi): crossing into napi with a string and building a BigInt costs more than hashing does, while the
 * wasm module encodes the string straight into its own memory (see test/bench/ring.ts and the report of the
 * commit that introduced this file). The module needs an async init; top-level await does it once.
 *
 * The placement is a protocol: every peer must compute the same points, so it is written down exactly.
 * - A position (point) is the top 52 bits of a 64-bit hash, so it is an exact integer in a double and the
 *   ring is a sorted Float64Array over [0, 2^52).
 * - A key's point is `top52(xxh64(utf8(key), seed = xxh64(utf8(namespace), seed = 0)))`: the namespace
 *   seeds the key hash, which is unambiguous (no separator that a key could contain) and costs one hash
 *   per lookup (namespace seeds are cached).
 * - Virtual node `i` of a peer is at `top52(xxh64(utf8(peerId), seed = i))`.
 */
import xxhashWasm from 'xxhash-wasm'

const xxhash = await xxhashWasm()

/** Number of distinct positions on the ring: points are integers in [0, RING_SIZE). */
export const RING_SIZE = 2 ** 52

/** Namespaces seen are few; the cache is bounded anyway so that hostile namespace names cannot grow it. */
const MAX_CACHED_NAMESPACES = 1024
const namespaceSeeds = new Map<string, bigint>()

/** The top 52 bits of an unsigned 64-bit hash, as an exact integer in [0, 2^52). */
export function hashToPoint (hash64: bigint): number {
  return Number(hash64 >> 12n)
}

/** xxHash64 of the UTF-8 bytes of a string (or of raw bytes), as an unsigned bigint. */
export function xxh64 (input: string | Uint8Array, seed = 0n): bigint {
  return typeof input === 'string' ? xxhash.h64(input, seed) : xxhash.h64Raw(input, seed)
}

/** The seed a namespace gives to the hash of its keys. */
export function namespaceSeed (namespace: string): bigint {
  let seed = namespaceSeeds.get(namespace)
  if (seed === undefined) {
    seed = xxhash.h64(namespace, 0n)
    if (namespaceSeeds.size >= MAX_CACHED_NAMESPACES) namespaceSeeds.clear()
    namespaceSeeds.set(namespace, seed)
  }
  return seed
}

/** Where a key of a namespace lands on the ring. A string key hashes as its UTF-8 bytes. */
export function keyPoint (namespace: string, key: string | Uint8Array): number {
  const seed = namespaceSeed(namespace)
  const h = typeof key === 'string' ? xxhash.h64(key, seed) : xxhash.h64Raw(key, seed)
  return Number(h >> 12n)
}

/** Where virtual node `index` of a peer lands on the ring. */
export function vnodePoint (peerId: string, index: number): number {
  return hashToPoint(xxhash.h64(peerId, BigInt(index)))
}
