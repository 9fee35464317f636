/**
 * Keys: the 32-bit hash the store's table and frequency sketch share, and the key's stored form.
 *
 * The hash is MurmurHash3's x86_32 mixing (Austin Appleby) applied to the key's UTF-16 code units two at a
 * time, so it reads the JavaScript string directly (no encoding step) with `Math.imul`. It is computed
 * once per call and reused by the hash table and the frequency sketch. The seed lets a peer pick a secret
 * per-process value so that clients cannot precompute colliding keys (hash flooding).
 *
 * Stored form: a key whose code units are all below 256 is stored Latin-1, one byte per character;
 * any other key is stored as UTF-16LE code units, two bytes per character. The *stored* byte length is
 * what the store's byte accounting charges (it is what the key costs in memory). The `maxKeyBytes` limit
 * is on the key's UTF-8 length instead, the same measure as the wire's key limit, so a key is accepted
 * or refused the same way by the store and by the codec.
 *
 * `KeyBuffer` reads a key's code units once (`charCodeAt` is the costly part of handling a key: each call
 * dispatches on the string's representation): in that one pass it hashes them, notes whether they are all
 * Latin-1 and copies the key's stored form into a buffer, so comparing with a stored key or storing it
 * is then plain typed-array work, four bytes at a time.
 */

/** 32-bit hash of a key's UTF-16 code units (a signed int32). */
export function hashKey (key: string, seed: number): number {
  const n = key.length
  let h = seed ^ n
  let i = 0
  for (; i + 1 < n; i += 2) h = mixBlock(h, key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16))
  if (i < n) h = mixTail(h, key.charCodeAt(i))
  return fmix32(h)
}

/** MurmurHash3 x86_32's step: mixes the 32-bit block `k` into the state `h`. */
function mixBlock (h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51)
  k = (k << 15) | (k >>> 17)
  k = Math.imul(k, 0x1b873593)
  h ^= k
  h = (h << 13) | (h >>> 19)
  return (Math.imul(h, 5) + 0xe6546b64) | 0
}

/** MurmurHash3 x86_32's last, partial block (no rotation of the state). */
function mixTail (h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51)
  k = (k << 15) | (k >>> 17)
  k = Math.imul(k, 0x1b873593)
  return h ^ k
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

/** Length of `key` encoded as UTF-8 (a lone surrogate counts 3 bytes, as its U+FFFD replacement). */
export function utf8Length (key: string): number {
  let bytes = 0
  const n = key.length
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i)
    if (c < 0x80) {
      bytes += 1
    } else if (c < 0x800) {
      bytes += 2
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (key.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4
      i++
    } else {
      bytes += 3
    }
  }
  return bytes
}

/**
 * `hashKey` of a key stored at `start` in `buf`: `length` code units, Latin-1 (one byte each) or UTF-16LE
 * (two bytes each). Lets the store rehash a stored key without decoding it to a string.
 */
export function hashStoredKey (buf: Uint8Array, start: number, length: number, latin1: boolean, seed: number): number {
  let h = seed ^ length
  let i = 0
  const step = latin1 ? 1 : 2
  let p = start
  for (; i + 1 < length; i += 2) {
    const c0 = latin1 ? buf[p] : buf[p] | (buf[p + 1] << 8)
    const c1 = latin1 ? buf[p + 1] : buf[p + 2] | (buf[p + 3] << 8)
    p += 2 * step
    h = mixBlock(h, c0 | (c1 << 16))
  }
  if (i < length) h = mixTail(h, latin1 ? buf[p] : buf[p] | (buf[p + 1] << 8))
  return fmix32(h)
}

/**
 * The last key read, in its stored form. `read(key)` returns `hashKey(key, seed)` and fills `bytes`
 * (`storedBytes` of them: Latin-1, or UTF-16LE when `latin1` is false); `words` views the same memory as
 * int32s. Holds keys of up to `maxChars` code units; longer keys must not be read.
 */
export class KeyBuffer {
  readonly bytes: Uint8Array
  readonly words: Int32Array
  readonly #seed: number
  latin1 = true
  storedBytes = 0

  constructor (maxChars: number, seed: number) {
    const buffer = new ArrayBuffer((2 * maxChars + 7) & ~7)
    this.bytes = new Uint8Array(buffer)
    this.words = new Int32Array(buffer)
    this.#seed = seed
  }

  /** Reads `key` (at most `maxChars` code units) and returns its hash, `hashKey(key, seed)`. */
  read (key: string): number {
    const n = key.length
    const bytes = this.bytes
    let h = this.#seed ^ n
    let bits = 0
    let i = 0
    for (; i + 1 < n; i += 2) {
      const c0 = key.charCodeAt(i)
      const c1 = key.charCodeAt(i + 1)
      bytes[i] = c0
      bytes[i + 1] = c1
      bits |= c0 | c1
      h = mixBlock(h, c0 | (c1 << 16))
    }
    if (i < n) {
      const c = key.charCodeAt(i)
      bytes[i] = c
      bits |= c
      h = mixTail(h, c)
    }
    if (bits < 256) {
      this.latin1 = true
      this.storedBytes = n
    } else {
      // Rare: read the key again, laid out as UTF-16LE (independent of the platform's byte order).
      for (let j = 0; j < n; j++) {
        const c = key.charCodeAt(j)
        bytes[2 * j] = c & 0xff
        bytes[2 * j + 1] = c >>> 8
      }
      this.latin1 = false
      this.storedBytes = 2 * n
    }
    return fmix32(h)
  }

  /** True when the `storedBytes` bytes at `start` (a multiple of 4) of `buf` / `words` equal the key read. */
  equals (buf: Uint8Array, words: Int32Array, start: number): boolean {
    const length = this.storedBytes
    const mine = this.words
    const w = start >>> 2
    const full = length >>> 2
    for (let j = 0; j < full; j++) if (words[w + j] !== mine[j]) return false
    const bytes = this.bytes
    for (let j = full << 2; j < length; j++) if (buf[start + j] !== bytes[j]) return false
    return true
  }

  /** Writes the key read at `start` (a multiple of 4) of `words`; may write up to 3 bytes past its end. */
  copyTo (words: Int32Array, start: number): void {
    const mine = this.words
    const w = start >>> 2
    const n = (this.storedBytes + 3) >>> 2
    for (let j = 0; j < n; j++) words[w + j] = mine[j]
  }
}
