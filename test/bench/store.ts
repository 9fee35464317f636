/**
 * Store benchmark: LocalStore next to lru-cache, measured in the same run on the same keys.
 *
 * - throughput on 1,000,000 keys (16-byte keys, 100-byte values), keys touched in a seeded random order
 *   (a new order each round): set-insert (into an empty store), set-update (every key overwritten),
 *   get-hit (everything fits). Values are "hot": a pool of 1024 distinct arrays, as the bytes of a request
 *   that just arrived are in the CPU cache; rows marked "cold values" use one long-allocated array per key,
 *   the worst case for a store that copies values (lru-cache only keeps the reference). get-hit twice:
 *   with lookup keys that are fresh string objects (as when keys are parsed from requests; the Map must
 *   hash them), and with the very string objects that were inserted (V8 caches a string's hash in the
 *   string, so the Map skips hashing and compares pointers). "set-update after every value was read":
 *   LocalStore overwrites a value in place only while no view of it was ever handed out; once read, an
 *   update appends a new record and the arena compacts. Median of several rounds.
 * - memory: bytes per entry after filling 1,000,000 entries, from `process.memoryUsage()` (heapUsed +
 *   arrayBuffers) after `global.gc()`, before and after; keys and values are created during the fill, so
 *   what a store keeps is counted and what it copies is not.
 * - hit ratio with the same capacity in entries on a 100,000-key space: Zipf(0.9) (2,000,000 accesses),
 *   and Zipf interrupted by a one-off scan of 200,000 keys never seen again (1M Zipf, scan, 1M Zipf), at
 *   0.1 %, 1 % and 10 % of the key space. Each access is `get`, then `set` on a miss.
 *
 * `node --expose-gc dist/test/bench/index.js store [--quick]`: --quick uses 200,000 keys and fewer rounds.
 */
import { LRUCache } from 'lru-cache'
import { systemClock } from '../../src/env/clock.js'
import { SeededRandom, type Random } from '../../src/env/random.js'
import { ENTRY_OVERHEAD_BYTES, LocalStore, type EvictionPolicy } from '../../src/storage/index.js'

const KEY_BYTES = 16
const VALUE_BYTES = 100

function gc (): void {
  (globalThis as { gc?: () => void }).gc?.()
}

function memoryNow (): number {
  gc()
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

/**
 * `key:000000000042`: 16 ASCII characters, a new flat string on every call, decoded from bytes as a server
 * decodes a key from a request (`'key:' + n` alone would make a V8 cons string, whose characters sit one
 * pointer further away).
 */
function makeKey (i: number): string {
  return Buffer.from('key:' + String(i).padStart(KEY_BYTES - 4, '0'), 'latin1').toString('latin1')
}

function makeKeys (n: number): string[] {
  const out: string[] = new Array<string>(n)
  for (let i = 0; i < n; i++) out[i] = makeKey(i)
  return out
}

function permutation (random: Random, n: number): Int32Array {
  const p = new Int32Array(n)
  for (let i = 0; i < n; i++) p[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = random.int(i + 1)
    const t = p[i]; p[i] = p[j]; p[j] = t
  }
  return p
}

function makeValues (random: Random, n: number): Uint8Array[] {
  const out: Uint8Array[] = new Array<Uint8Array>(n)
  for (let i = 0; i < n; i++) {
    const v = new Uint8Array(VALUE_BYTES)
    v[0] = i; v[1] = i >>> 8; v[2] = random.uint32()
    out[i] = v
  }
  return out
}

function newStore (n: number, eviction: EvictionPolicy = 'w-tinylfu'): LocalStore {
  return new LocalStore({
    clock: systemClock,
    writerId: 'bench',
    eviction,
    maxBytes: Math.ceil(n * (KEY_BYTES + VALUE_BYTES + ENTRY_OVERHEAD_BYTES) * 1.1) + (1 << 20)
  })
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]
}

/**
 * Ops per second of two competitors, measured in alternating rounds (so both see the same machine load;
 * the machine is shared), after one warm-up round each. Returns the median rate of each.
 */
function alternate (rounds: number, ops: number,
  a: { setup: () => void, round: () => number }, b: { setup: () => void, round: () => number }): [number, number] {
  const ratesA: number[] = []
  const ratesB: number[] = []
  let sink = 0
  const time = (side: { setup: () => void, round: () => number }): number => {
    side.setup()
    const t0 = process.hrtime.bigint()
    sink += side.round()
    return ops / (Number(process.hrtime.bigint() - t0) / 1e9)
  }
  for (let r = 0; r <= rounds; r++) {
    const ra = time(a)
    const rb = time(b)
    if (r > 0) { ratesA.push(ra); ratesB.push(rb) }
  }
  if (sink === -1) console.log('unreachable')
  return [median(ratesA), median(ratesB)]
}

// One loop function per store type and operation, so each stays monomorphic.
function storeInsert (store: LocalStore, keys: string[], values: Uint8Array[], order: Int32Array): number {
  for (let i = 0; i < order.length; i++) { const k = order[i]; store.set(keys[k], values[k]) }
  return store.size
}
function lruInsert (cache: LRUCache<string, Uint8Array>, keys: string[], values: Uint8Array[], order: Int32Array): number {
  for (let i = 0; i < order.length; i++) { const k = order[i]; cache.set(keys[k], values[k]) }
  return cache.size
}
function storeUpdate (store: LocalStore, keys: string[], values: Uint8Array[], order: Int32Array, shift: number): number {
  const n = values.length
  for (let i = 0; i < order.length; i++) { const k = order[i]; store.set(keys[k], values[(k + shift) % n]) }
  return store.size
}
function lruUpdate (cache: LRUCache<string, Uint8Array>, keys: string[], values: Uint8Array[], order: Int32Array, shift: number): number {
  const n = values.length
  for (let i = 0; i < order.length; i++) { const k = order[i]; cache.set(keys[k], values[(k + shift) % n]) }
  return cache.size
}
function storeGet (store: LocalStore, keys: string[], order: Int32Array): number {
  let found = 0
  for (let i = 0; i < order.length; i++) if (store.get(keys[order[i]]) !== undefined) found++
  return found
}
function lruGet (cache: LRUCache<string, Uint8Array>, keys: string[], order: Int32Array): number {
  let found = 0
  for (let i = 0; i < order.length; i++) if (cache.get(keys[order[i]]) !== undefined) found++
  return found
}

interface Row { name: string, ours: number, theirs: number, unit: string, higherIsBetter: boolean, target?: string }

function printTable (title: string, rows: Row[]): void {
  console.log(`\n${title}`)
  const header = ['', 'LocalStore', 'lru-cache', 'ratio', 'target']
  const lines = rows.map((r) => [
    r.name,
    `${fmt(r.ours)} ${r.unit}`,
    `${fmt(r.theirs)} ${r.unit}`,
    `${(r.ours / r.theirs).toFixed(2)}x`,
    r.target ?? ''
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  const row = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  console.log(row(header))
  for (const l of lines) console.log(row(l))
}

function fmt (x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`
  if (x >= 1e4) return `${(x / 1e3).toFixed(0)}k`
  if (x >= 100) return x.toFixed(0)
  return x.toFixed(2)
}

function throughputSection (n: number, rounds: number): Row[] {
  const random = new SeededRandom(42)
  const keys = makeKeys(n)
  // Hot values: a small pool reused for every key (the bytes of a request that just arrived are in cache).
  const pool = makeValues(random.fork('pool'), 1024)
  const hot: Uint8Array[] = new Array<Uint8Array>(n)
  for (let i = 0; i < n; i++) hot[i] = pool[i & 1023]
  // Cold values: one distinct, long-allocated Uint8Array per key (every copy misses the CPU cache).
  const cold = makeValues(random.fork('values'), n)
  const fillOrder = permutation(random.fork('order'), n)
  const orders = [1, 2, 3].map((i) => permutation(random.fork(`order-${i}`), n))
  const rows: Row[] = []
  let round = 0
  const nextOrder = (): Int32Array => orders[round++ % orders.length]

  let store = newStore(n)
  let cache = new LRUCache<string, Uint8Array>({ max: n })
  const pair = (name: string, target: string, ours: () => number, theirs: () => number, setupOurs: () => void, setupTheirs: () => void): void => {
    const [a, b] = alternate(rounds, n, { setup: setupOurs, round: ours }, { setup: setupTheirs, round: theirs })
    rows.push({ name, ours: a, theirs: b, unit: 'ops/s', higherIsBetter: true, target })
  }
  let order = fillOrder
  const shuffle = (): void => { order = nextOrder() }

  pair('set-insert', '>= 0.80x',
    () => storeInsert(store, keys, hot, fillOrder), () => lruInsert(cache, keys, hot, fillOrder),
    () => { store = newStore(n); gc() }, () => { cache = new LRUCache<string, Uint8Array>({ max: n }); gc() })
  let shift = 1
  pair('set-update', '>= 0.80x',
    () => storeUpdate(store, keys, hot, order, shift), () => lruUpdate(cache, keys, hot, order, shift),
    () => { shuffle(); shift++ }, () => { shuffle(); shift++ })

  let lookup = keys
  const fresh = (): void => { shuffle(); lookup = makeKeys(n); gc() }
  pair('get-hit, fresh key strings', '>= 1.00x',
    () => storeGet(store, lookup, order), () => lruGet(cache, lookup, order), fresh, fresh)
  pair('get-hit, inserted key strings', '>= 1.00x',
    () => storeGet(store, keys, order), () => lruGet(cache, keys, order), shuffle, shuffle)
  pair('set-update after every value was read', '',
    () => storeUpdate(store, keys, hot, order, shift), () => lruUpdate(cache, keys, hot, order, shift),
    () => { storeGet(store, keys, order); shuffle(); shift++ }, () => { lruGet(cache, keys, order); shuffle(); shift++ })
  const s = store.stats()
  if (s.entries !== n || s.evictions.evict !== 0) throw new Error(`bench: store lost entries (${s.entries} of ${n}, ${s.evictions.evict} evicted)`)

  pair('set-insert, cold values', '',
    () => storeInsert(store, keys, cold, fillOrder), () => lruInsert(cache, keys, cold, fillOrder),
    () => { store = newStore(n); gc() }, () => { cache = new LRUCache<string, Uint8Array>({ max: n }); gc() })
  pair('set-update, cold values', '',
    () => storeUpdate(store, keys, cold, order, shift), () => lruUpdate(cache, keys, cold, order, shift),
    () => { shuffle(); shift++ }, () => { shuffle(); shift++ })
  return rows
}

function memorySection (n: number): Row[] {
  const base = memoryNow()
  const store = newStore(n)
  for (let i = 0; i < n; i++) {
    const v = new Uint8Array(VALUE_BYTES)
    v[0] = i
    store.set(makeKey(i), v)
  }
  const ours = (memoryNow() - base) / n
  if (store.size !== n) throw new Error('bench: store lost entries')

  const base2 = memoryNow()
  const cache = new LRUCache<string, Uint8Array>({ max: n })
  for (let i = 0; i < n; i++) {
    const v = new Uint8Array(VALUE_BYTES)
    v[0] = i
    cache.set(makeKey(i), v)
  }
  const theirs = (memoryNow() - base2) / n
  if (cache.size !== n) throw new Error('bench: lru-cache lost entries')
  const payload = KEY_BYTES + VALUE_BYTES
  const stats = store.stats()
  console.log(`\nmemory: ${n} entries of ${KEY_BYTES}-byte keys and ${VALUE_BYTES}-byte values (payload ${payload} bytes/entry); ` +
    `LocalStore arena ${(stats.arenaBytes / n).toFixed(1)} bytes/entry held, ${(stats.arenaLiveBytes / n).toFixed(1)} live`)
  return [
    { name: 'bytes per entry', ours, theirs, unit: 'B', higherIsBetter: false },
    { name: 'overhead beyond key+value', ours: ours - payload, theirs: theirs - payload, unit: 'B', higherIsBetter: false, target: 'ours <= 80 B' }
  ]
}

/** Zipf(s) sampler over ranks 0..n-1 by inverse CDF (binary search). */
function zipfSampler (random: Random, n: number, s: number): () => number {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let i = 0; i < n; i++) { sum += 1 / Math.pow(i + 1, s); cdf[i] = sum }
  for (let i = 0; i < n; i++) cdf[i] /= sum
  return () => {
    const u = random.next()
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cdf[mid] < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/** A trace of key ids: Zipf(0.9) over `space` keys (ranks shuffled), optionally cut by a one-off scan. */
function makeTrace (seed: number, space: number, accesses: number, scan: number): Int32Array {
  const random = new SeededRandom(seed)
  const rankToKey = permutation(random.fork('ranks'), space)
  const zipf = zipfSampler(random.fork('zipf'), space, 0.9)
  const trace = new Int32Array(accesses + scan)
  let t = 0
  const half = scan > 0 ? accesses >>> 1 : accesses
  for (let i = 0; i < half; i++) trace[t++] = rankToKey[zipf()]
  for (let i = 0; i < scan; i++) trace[t++] = space + i // one-off keys, never seen again
  for (let i = half; i < accesses; i++) trace[t++] = rankToKey[zipf()]
  return trace
}

function hitRatioOurs (trace: Int32Array, keys: string[], capacity: number): number {
  const store = new LocalStore({ clock: systemClock, writerId: 'bench', maxEntries: capacity, maxBytes: capacity * 1024 + (1 << 20) })
  const value = new Uint8Array(1)
  let hits = 0
  for (let i = 0; i < trace.length; i++) {
    const key = keys[trace[i]]
    if (store.get(key) !== undefined) hits++
    else store.set(key, value)
  }
  return hits / trace.length
}

function hitRatioLru (trace: Int32Array, keys: string[], capacity: number): number {
  const cache = new LRUCache<string, Uint8Array>({ max: capacity })
  const value = new Uint8Array(1)
  let hits = 0
  for (let i = 0; i < trace.length; i++) {
    const key = keys[trace[i]]
    if (cache.get(key) !== undefined) hits++
    else cache.set(key, value)
  }
  return hits / trace.length
}

function hitRatioSection (quick: boolean): Row[] {
  const space = 100_000
  const accesses = quick ? 500_000 : 2_000_000
  const scan = 200_000
  const keys = makeKeys(space + scan)
  const rows: Row[] = []
  for (const [name, trace] of [['zipf 0.9', makeTrace(7, space, accesses, 0)], ['zipf 0.9 + scan', makeTrace(7, space, accesses, scan)]] as const) {
    for (const fraction of [0.001, 0.01, 0.1]) {
      const capacity = Math.round(space * fraction)
      rows.push({
        name: `${name}, capacity ${capacity} (${fraction * 100} %)`,
        ours: 100 * hitRatioOurs(trace, keys, capacity),
        theirs: 100 * hitRatioLru(trace, keys, capacity),
        unit: '%',
        higherIsBetter: true,
        target: '> 1.00x'
      })
    }
  }
  return rows
}

export async function run (args: string[]): Promise<void> {
  const quick = args.includes('--quick')
  const n = quick ? 200_000 : 1_000_000
  if ((globalThis as { gc?: unknown }).gc === undefined) console.log('store: run node with --expose-gc for exact memory figures')
  console.log(`\n== store: LocalStore (W-TinyLFU) vs lru-cache, ${n} keys of ${KEY_BYTES} bytes, values of ${VALUE_BYTES} bytes`)
  printTable('throughput (median of rounds, keys in seeded random order)', throughputSection(n, quick ? 3 : 5))
  gc()
  printTable('memory (heapUsed + arrayBuffers after gc, per entry)', memorySection(n))
  gc()
  printTable('hit ratio, same capacity in entries, 100,000-key space (get, then set on a miss)', hitRatioSection(quick))
}
