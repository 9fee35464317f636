/**
 * Keys: the 32-bit hash the store's table and frequency sketch share, and the key's stored form.
 *
 * The hash is MurmurHash3's x86_32 mixing (Austin Appleby) applied to the key's UTF-16 code units two at a
 * time, so it reads the JavaScript string directly (no encoding step) with `Math.imul`. It is computed
 * once per call and reused by the hash table and the frequency sketch. The seed lets a peer pick a secret
 * per-process value so that clients cannot precompute colliding keys (hash flooding).
 *
 * Stored form: a key whose code units are all below 256 is stored Latin-1, one byte per character;
 * any other key is stored as UTF-16LE code units, two bytes per character. Its *stored byte length* is
 * what counts toward `maxKeyBytes` and the store's byte accounting. This is never more than the key's
 * UTF-8 length (ASCII 1 = 1, U+0080..U+00FF 1 < 2, U+0100..U+07FF 2 = 2, U+0800..U+FFFF 2 < 3, astral
 * 4 = 4), so every key that fits the wire's UTF-8 key limit fits the store's limit of the same number.
 */

/** 32-bit hash of a key's UTF-16 code units (a signed int32). */
export function hashKey (key: string, seed: number): number {
  const n = key.length
  let h = seed ^ n
  let i = 0
  for (; i + 1 < n; i += 2) {
    let k = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16)
    k = Math.imul(k, 0xcc9e2d51)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, 0x1b873593)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  if (i < n) {
    let k = key.charCodeAt(i)
    k = Math.imul(k, 0xcc9e2d51)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, 0x1b873593)
    h ^= k
  }
  return fmix32(h)
}

/** MurmurHash3's finaliser: every input bit affects every output bit. */
export function fmix32 (h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h | 0
}

/** True when every code unit of `key` is below 256 (the key is stored one byte per character). */
export function isLatin1 (key: string): boolean {
  let bits = 0
  for (let i = 0; i < key.length; i++) bits |= key.charCodeAt(i)
  return bits < 256
}

/** Bytes the store uses (and accounts) for `key`: its length if Latin-1, else twice its length. */
export function storedKeyBytes (key: string): number {
  return isLatin1(key) ? key.length : key.length * 2
}
