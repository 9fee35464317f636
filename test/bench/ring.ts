/**
 * Ring benchmark: lookup cost, load balance, keys moved by a join, and the hash choice.
 *
 * Figures printed (all from seeded inputs, so two runs differ only by timing noise):
 * - the 64-bit hash on 16-byte keys (xxhash-wasm), next to a Map.get anchor;
 * - primary lookup (hash included) of random 16-byte keys, median ns over many batches;
 * - load: each peer's share of the hash space and of 1M actual keys, as max/mean and std/mean;
 * - movement: the fraction of 1M keys whose primary changes when one peer joins 100 (several joiners);
 * - memory and build time of a ring.
 * `node --expose-gc dist/test/bench/index.js ring [--quick]`: --quick uses 200k keys instead of 1M.
 */
import { SeededRandom, type Random } from '../../src/env/random.js'
import { createHashRing, DEFAULT_VNODES, type HashRing } from '../../src/ring/index.js'
import { keyPoint, xxh64 } from '../../src/ring/hash.js'

const PEER_COUNTS = [10, 100, 1000]
const VNODE_COUNTS = [64, 128, 256, 512]
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
const KEY_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Peer ids shaped like libp2p Ed25519 peer ids ("12D3KooW" + 44 base58 characters). */
function peerIds (random: Random, n: number): string[] {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    let id = '12D3KooW'
    for (let j = 0; j < 44; j++) id += BASE58[random.int(BASE58.length)]
    out.push(id)
  }
  return out
}

/** Random 16-byte ASCII keys. */
function keys (random: Random, n: number): string[] {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    let k = ''
    for (let j = 0; j < 16; j++) k += KEY_CHARS[random.int(KEY_CHARS.length)]
    out.push(k)
  }
  return out
}

function gc (): void {
  (globalThis as { gc?: () => void }).gc?.()
}

/** Median ns per call of `fn` over `batches` batches of `keys.length` calls each. */
function medianNs (keyList: string[], batches: number, fn: (key: string) => unknown): number {
  let sink = 0
  for (let w = 0; w < 3; w++) for (const k of keyList) if (fn(k) !== undefined) sink++
  const perCall: number[] = []
  for (let b = 0; b < batches; b++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < keyList.length; i++) if (fn(keyList[i]) !== undefined) sink++
    perCall.push(Number(process.hrtime.bigint() - t0) / keyList.length)
  }
  if (sink === -1) console.log('unreachable')
  perCall.sort((a, b) => a - b)
  return perCall[perCall.length >> 1]
}

interface Spread { maxOverMean: number, minOverMean: number, relStd: number }

function spread (values: number[]): Spread {
  const mean = values.reduce((a, b) => a + b, 0) / values.length
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length
  return { maxOverMean: Math.max(...values) / mean, minOverMean: Math.min(...values) / mean, relStd: Math.sqrt(variance) / mean }
}

function keyCounts (ring: HashRing, keyList: string[]): number[] {
  const index = new Map(ring.peers().map((p, i) => [p, i]))
  const counts = new Array<number>(ring.size).fill(0)
  for (const k of keyList) counts[index.get(ring.primary('bench', k)!)!]++
  return counts
}

const f2 = (x: number): string => x.toFixed(2)
const pct = (x: number): string => `${(100 * x).toFixed(1)} %`

function hashSection (keyList: string[]): void {
  console.log('\n-- 64-bit hash of a 16-byte key (ns, median) --')
  const map = new Map(keyList.map((k, i) => [k, i]))
  console.log(`  anchor Map.get                      ${medianNs(keyList, 100, (k) => map.get(k)).toFixed(0).padStart(5)}`)
  console.log(`  xxhash-wasm  h64 (chosen)           ${medianNs(keyList, 100, (k) => xxh64(k, 7n)).toFixed(0).padStart(5)}`)
  console.log(`  xxhash-wasm  keyPoint (ns seed+>>12) ${medianNs(keyList, 100, (k) => keyPoint('bench', k)).toFixed(0).padStart(5)}`)
  // @node-rs/xxhash (napi) was measured against this at ~190-235 ns per call (napi + BigInt cost) and
  // dropped from the dependencies; the README keeps that figure.
}

function lookupSection (random: Random, keyList: string[]): void {
  console.log('\n-- primary lookup of a random 16-byte key, hash included (ns, median of 200 batches of 16k) --')
  console.log(`  ${'peers'.padStart(6)} ${VNODE_COUNTS.map((v) => `v=${v}`.padStart(8)).join(' ')}`)
  for (const n of PEER_COUNTS) {
    const peers = peerIds(random.fork(`peers-${n}`), n)
    const cells: string[] = []
    for (const v of VNODE_COUNTS) {
      const ring = createHashRing({ peers, vnodes: v })
      gc()
      cells.push(medianNs(keyList, 200, (k) => ring.primary('bench', k)).toFixed(0).padStart(8))
    }
    console.log(`  ${String(n).padStart(6)} ${cells.join(' ')}`)
  }
  const ring = createHashRing({ peers: peerIds(random.fork('peers-1000'), 1000) })
  const out: string[] = []
  console.log(`  preference list of 3 into a reused array, 1,000 peers, v=${DEFAULT_VNODES}: ${medianNs(keyList, 200, (k) => ring.preferenceListInto('bench', k, 3, out)).toFixed(0)} ns`)
}

function loadSection (random: Random, keyList: string[]): void {
  console.log(`\n-- load: share of the hash space / of ${keyList.length.toLocaleString('en')} keys per peer (max/mean, std/mean) --`)
  console.log(`  ${'peers'.padStart(6)} ${'vnodes'.padStart(6)}   ${'space max/mean'.padStart(14)} ${'std'.padStart(7)}   ${'keys max/mean'.padStart(13)} ${'std'.padStart(7)}   ${'keys/peer'.padStart(9)}`)
  for (const n of PEER_COUNTS) {
    const peers = peerIds(random.fork(`peers-${n}`), n)
    for (const v of VNODE_COUNTS) {
      const ring = createHashRing({ peers, vnodes: v })
      const space = spread([...ring.shares().values()])
      const counts = spread(keyCounts(ring, keyList))
      const mark = v === DEFAULT_VNODES ? ' (default)' : ''
      console.log(`  ${String(n).padStart(6)} ${String(v).padStart(6)}   ${f2(space.maxOverMean).padStart(14)} ${pct(space.relStd).padStart(7)}   ${f2(counts.maxOverMean).padStart(13)} ${pct(counts.relStd).padStart(7)}   ${String(Math.round(keyList.length / n)).padStart(9)}${mark}`)
    }
  }
  console.log(`  (key counts add sampling noise: with perfectly equal shares, ${Math.round(keyList.length / 1000)} keys per peer alone`)
  console.log(`   give std/mean ~${pct(1 / Math.sqrt(keyList.length / 1000))} at 1,000 peers, so max/mean of key counts sits above that of the space)`)
}

function joinSection (random: Random, keyList: string[]): void {
  console.log(`\n-- one peer joins 100: fraction of ${keyList.length.toLocaleString('en')} keys whose primary moves (ideal 1/101 = 0.99 %) --`)
  const peers = peerIds(random.fork('peers-100'), 100)
  const joiners = peerIds(random.fork('joiners'), 20)
  for (const v of VNODE_COUNTS) {
    const before = createHashRing({ peers, vnodes: v })
    const owners = keyList.map((k) => before.primary('bench', k))
    const fractions: number[] = []
    let wrongDestination = 0
    for (const joiner of joiners) {
      const after = before.withPeer(joiner)
      let moved = 0
      for (let i = 0; i < keyList.length; i++) {
        const owner = after.primary('bench', keyList[i])
        if (owner !== owners[i]) {
          moved++
          if (owner !== joiner) wrongDestination++
        }
      }
      fractions.push(moved / keyList.length)
    }
    const first = fractions[0]
    fractions.sort((a, b) => a - b)
    const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length
    const mark = v === DEFAULT_VNODES ? ' (default)' : ''
    const p2 = (x: number): string => `${(100 * x).toFixed(2)} %`
    console.log(`  v=${String(v).padEnd(4)} first joiner ${p2(first)}; ${joiners.length} joiners: mean ${p2(mean)}, min ${p2(fractions[0])}, max ${p2(fractions[fractions.length - 1])}; moved elsewhere than to the joiner: ${wrongDestination}${mark}`)
  }
}

function memorySection (random: Random): void {
  console.log('\n-- build time and memory (1,000 peers) --')
  const peers = peerIds(random.fork('peers-1000'), 1000)
  for (const v of VNODE_COUNTS) {
    gc()
    const t0 = process.hrtime.bigint()
    const ring = createHashRing({ peers, vnodes: v })
    const buildMs = Number(process.hrtime.bigint() - t0) / 1e6
    // Median of 9 joins: the first one also pays for compiling withPeerSet.
    const joins: number[] = []
    for (let j = 0; j < 9; j++) {
      const t1 = process.hrtime.bigint()
      const joined = ring.withPeer(`12D3KooWjoiner${j}`)
      joins.push(Number(process.hrtime.bigint() - t1) / 1e6)
      if (joined.size !== 1001) throw new Error('join failed')
    }
    const joinMs = joins.sort((a, b) => a - b)[4]
    console.log(`  v=${String(v).padEnd(4)} ${ring.pointCount.toLocaleString('en').padStart(9)} points  build ${buildMs.toFixed(0).padStart(4)} ms  withPeer ${joinMs.toFixed(1).padStart(5)} ms  typed arrays ${(ring.memoryBytes / 1024 / 1024).toFixed(1)} MiB`)
  }
}

/** The hash-space spread at 1,000 peers depends on the ids drawn: show it over several peer sets. */
function spreadOverPeerSets (random: Random): void {
  const sets = 8
  console.log(`\n-- hash-space share at 1,000 peers over ${sets} peer sets (max/mean: mean and worst; std/mean: mean) --`)
  for (const v of [...VNODE_COUNTS, 1024]) {
    const maxes: number[] = []
    const stds: number[] = []
    for (let s = 0; s < sets; s++) {
      const sp = spread([...createHashRing({ peers: peerIds(random.fork(`set-${s}`), 1000), vnodes: v }).shares().values()])
      maxes.push(sp.maxOverMean)
      stds.push(sp.relStd)
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
    const mark = v === DEFAULT_VNODES ? ' (default)' : ''
    console.log(`  v=${String(v).padEnd(4)} max/mean ${f2(mean(maxes))} (worst ${f2(Math.max(...maxes))})  std/mean ${pct(mean(stds))}  1/sqrt(v) = ${pct(1 / Math.sqrt(v))}${mark}`)
  }
}

export async function run (args: string[]): Promise<void> {
  const quick = args.includes('--quick')
  const random = new SeededRandom(20240601)
  console.log(`\n== ring (seed ${random.seed}, default vnodes ${DEFAULT_VNODES}) ==`)
  const lookupKeys = keys(random.fork('lookup-keys'), 16_384)
  const loadKeys = keys(random.fork('load-keys'), quick ? 200_000 : 1_000_000)
  hashSection(lookupKeys)
  lookupSection(random, lookupKeys)
  loadSection(random, loadKeys)
  joinSection(random, loadKeys)
  spreadOverPeerSets(random)
  memorySection(random)
}
