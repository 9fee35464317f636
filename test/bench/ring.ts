/**
 * Ring benchmark: lookup cost, load balance, keys moved by a join, and the hash choice.
 *
 * Figures printed (all from seeded inputs, so two runs differ only by timing noise):
 * - the 64-bit hash on 16-byte keys (xxhash-wasm), next to a Map.get anchor;
 * - primary lookup (hash included) of random 16-byte keys, median ns over many batches;
 * - load: each peer's share of the hash space and of 1M actual keys, as max/mean and std/mean, with the
 *   default bounded loads and without them (loadFactor Infinity);
 * - movement: the fraction of 1M keys whose primary changes when one peer joins 100 (several joiners),
 *   and how many of them went elsewhere than to the joiner;
 * - the choice of loadFactor: hash-space spread at 1,000 peers over 8 peer sets and the exact fraction of
 *   the hash space a join into 100 moves (to the joiner and elsewhere), for several factors;
 * - memory and build time of a ring.
 * `node --expose-gc dist/test/bench/index.js ring [--quick]`: --quick uses 200k keys instead of 1M.
 */
import { SeededRandom, type Random } from '../../src/env/random.js'
import { arcLength, createHashRing, DEFAULT_LOAD_FACTOR, DEFAULT_VNODES, RING_SIZE, type HashRing } from '../../src/ring/index.js'
import { keyPoint, xxh64 } from '../../src/ring/hash.js'

const PEER_COUNTS = [10, 100, 1000]
const VNODE_COUNTS = [64, 128, 256, 512]
/** Load factors compared when choosing the default (Infinity: plain consistent hashing). */
const LOAD_FACTORS = [1.05, 1.1, 1.15, 1.2, Infinity]
const lf = (x: number): string => x === Infinity ? 'off' : String(x)
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
  const plain = createHashRing({ peers: peerIds(random.fork('peers-1000'), 1000), loadFactor: Infinity })
  gc()
  console.log(`  1,000 peers, v=${DEFAULT_VNODES}, loadFactor off (plain consistent hashing): ${medianNs(keyList, 200, (k) => plain.primary('bench', k)).toFixed(0)} ns`)
  const ring = createHashRing({ peers: peerIds(random.fork('peers-1000'), 1000) })
  const out: string[] = []
  console.log(`  preference list of 3 into a reused array, 1,000 peers, v=${DEFAULT_VNODES}: ${medianNs(keyList, 200, (k) => ring.preferenceListInto('bench', k, 3, out)).toFixed(0)} ns`)
}

function loadSection (random: Random, keyList: string[]): void {
  console.log(`\n-- load: share of the hash space / of ${keyList.length.toLocaleString('en')} keys per peer (max/mean, std/mean) --`)
  console.log(`  ${'peers'.padStart(6)} ${'vnodes'.padStart(6)} ${'loadFactor'.padStart(10)}   ${'space max/mean'.padStart(14)} ${'std'.padStart(7)}   ${'keys max/mean'.padStart(13)} ${'std'.padStart(7)}   ${'keys/peer'.padStart(9)}`)
  for (const n of PEER_COUNTS) {
    const peers = peerIds(random.fork(`peers-${n}`), n)
    for (const v of VNODE_COUNTS) {
      for (const loadFactor of v === DEFAULT_VNODES ? [Infinity, DEFAULT_LOAD_FACTOR] : [DEFAULT_LOAD_FACTOR]) {
        const ring = createHashRing({ peers, vnodes: v, loadFactor })
        const space = spread([...ring.shares().values()])
        const counts = spread(keyCounts(ring, keyList))
        const mark = v === DEFAULT_VNODES && loadFactor === DEFAULT_LOAD_FACTOR ? ' (default)' : ''
        console.log(`  ${String(n).padStart(6)} ${String(v).padStart(6)} ${lf(loadFactor).padStart(10)}   ${f2(space.maxOverMean).padStart(14)} ${pct(space.relStd).padStart(7)}   ${f2(counts.maxOverMean).padStart(13)} ${pct(counts.relStd).padStart(7)}   ${String(Math.round(keyList.length / n)).padStart(9)}${mark}`)
      }
    }
  }
  console.log(`  (key counts add sampling noise: with perfectly equal shares, ${Math.round(keyList.length / 1000)} keys per peer alone`)
  console.log(`   give std/mean ~${pct(1 / Math.sqrt(keyList.length / 1000))} at 1,000 peers, so max/mean of key counts sits above that of the space)`)
}

function joinSection (random: Random, keyList: string[]): void {
  console.log(`\n-- one peer joins 100: fraction of ${keyList.length.toLocaleString('en')} keys whose primary moves (ideal 1/101 = 0.99 %) --`)
  const peers = peerIds(random.fork('peers-100'), 100)
  const joiners = peerIds(random.fork('joiners'), 20)
  const configs: Array<[number, number]> = VNODE_COUNTS.map((v) => [v, DEFAULT_LOAD_FACTOR])
  configs.push([DEFAULT_VNODES, Infinity])
  for (const [v, loadFactor] of configs) {
    const before = createHashRing({ peers, vnodes: v, loadFactor })
    const owners = keyList.map((k) => before.primary('bench', k))
    const fractions: number[] = []
    let wrongDestination = 0
    let movedKeys = 0
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
      movedKeys += moved
    }
    const first = fractions[0]
    fractions.sort((a, b) => a - b)
    const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length
    const mark = v === DEFAULT_VNODES && loadFactor === DEFAULT_LOAD_FACTOR ? ' (default)' : ''
    const p2 = (x: number): string => `${(100 * x).toFixed(2)} %`
    console.log(`  v=${String(v).padEnd(4)} loadFactor ${lf(loadFactor).padEnd(4)} first joiner ${p2(first)}; ${joiners.length} joiners: mean ${p2(mean)}, min ${p2(fractions[0])}, max ${p2(fractions[fractions.length - 1])}; moved elsewhere than to the joiner: ${wrongDestination} keys in all (${p2(wrongDestination / movedKeys)} of those moved)${mark}`)
  }
}

function memorySection (random: Random): void {
  console.log('\n-- build time and memory (1,000 peers) --')
  const peers = peerIds(random.fork('peers-1000'), 1000)
  const configs: Array<[number, number]> = VNODE_COUNTS.map((v) => [v, DEFAULT_LOAD_FACTOR])
  configs.push([DEFAULT_VNODES, Infinity])
  for (const [v, loadFactor] of configs) {
    gc()
    const t0 = process.hrtime.bigint()
    const ring = createHashRing({ peers, vnodes: v, loadFactor })
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
    console.log(`  v=${String(v).padEnd(4)} loadFactor ${lf(loadFactor).padEnd(4)} ${ring.pointCount.toLocaleString('en').padStart(9)} points  build ${buildMs.toFixed(0).padStart(4)} ms  withPeer ${joinMs.toFixed(1).padStart(5)} ms  typed arrays ${(ring.memoryBytes / 1024 / 1024).toFixed(1)} MiB`)
  }
}

/** The hash-space spread at 1,000 peers depends on the ids drawn: show it over several peer sets. */
function spreadOverPeerSets (random: Random): void {
  const sets = 8
  console.log(`\n-- hash-space share at 1,000 peers over ${sets} peer sets (max/mean: mean and worst; std/mean: mean) --`)
  const configs: Array<[number, number]> = [...VNODE_COUNTS, 1024].map((v) => [v, Infinity])
  for (const v of [128, DEFAULT_VNODES]) configs.push([v, DEFAULT_LOAD_FACTOR])
  for (const [v, loadFactor] of configs) {
    const maxes: number[] = []
    const stds: number[] = []
    for (let s = 0; s < sets; s++) {
      const sp = spread([...createHashRing({ peers: peerIds(random.fork(`set-${s}`), 1000), vnodes: v, loadFactor }).shares().values()])
      maxes.push(sp.maxOverMean)
      stds.push(sp.relStd)
    }
    const mark = v === DEFAULT_VNODES && loadFactor === DEFAULT_LOAD_FACTOR ? ' (default)' : ''
    console.log(`  v=${String(v).padEnd(4)} loadFactor ${lf(loadFactor).padEnd(4)} max/mean ${f2(mean(maxes))} (worst ${f2(Math.max(...maxes))})  std/mean ${pct(mean(stds))}  1/sqrt(v) = ${pct(1 / Math.sqrt(v))}${mark}`)
  }
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length

/**
 * Exact fraction of the hash space whose primary differs between two rings, and how much of it went to
 * or came from `peer` (the one joining or leaving): over the segments between the arc ends of both rings
 * (each segment has one owner per ring).
 */
function spaceMoved (before: HashRing, after: HashRing, peer: string): { moved: number, ofPeer: number } {
  const ends = new Float64Array([...before.ranges(), ...after.ranges()].map((r) => r.end)).sort()
  let moved = 0
  let ofPeer = 0
  for (let i = 0; i < ends.length; i++) {
    const start = ends[i === 0 ? ends.length - 1 : i - 1]
    if (i > 0 && start === ends[i]) continue
    const was = before.primaryAt(ends[i])
    const is = after.primaryAt(ends[i])
    if (was === is) continue
    const length = arcLength(start, ends[i])
    moved += length
    if (is === peer || was === peer) ofPeer += length
  }
  return { moved: moved / RING_SIZE, ofPeer: ofPeer / RING_SIZE }
}

/**
 * Choosing loadFactor at the default vnodes: lower evens the load more, but the pass that bounds loads
 * re-decides which arcs overflow when the peer count (hence the cap) changes, so more of the space moves
 * between peers other than the joiner. Hash-space figures are exact (no key sampling).
 */
function loadFactorSection (random: Random): void {
  const sets = 8
  const joins = 20
  console.log(`\n-- choosing loadFactor (v=${DEFAULT_VNODES}): spread at 1,000 peers over ${sets} peer sets; exact hash space moved by ${joins} joins into 100 / leaves from 100 --`)
  console.log(`  ${''.padStart(10)}   ${'1,000 peers: space'.padEnd(22)}   ${'join: moved'.padEnd(18)}   ${'moved elsewhere'.padEnd(17)}   ${'leave: elsewhere'.padEnd(17)}`)
  console.log(`  ${'loadFactor'.padStart(10)}   ${'max/mean'.padStart(8)} ${'worst'.padStart(6)} ${'std'.padStart(6)}   ${'mean'.padStart(8)} ${'max'.padStart(8)}   ${'mean'.padStart(8)} ${'max'.padStart(8)}   ${'mean'.padStart(8)} ${'max'.padStart(8)}   ${'build ms'.padStart(8)}`)
  const hundred = peerIds(random.fork('peers-100'), 100)
  const joiners = peerIds(random.fork('joiners'), joins)
  const sets1000 = Array.from({ length: sets }, (_, s) => peerIds(random.fork(`set-${s}`), 1000))
  for (const loadFactor of LOAD_FACTORS) {
    const maxes: number[] = []
    const stds: number[] = []
    const builds: number[] = []
    for (const peers of sets1000) {
      const t0 = process.hrtime.bigint()
      const ring = createHashRing({ peers, loadFactor })
      builds.push(Number(process.hrtime.bigint() - t0) / 1e6)
      const sp = spread([...ring.shares().values()])
      maxes.push(sp.maxOverMean)
      stds.push(sp.relStd)
    }
    const before = createHashRing({ peers: hundred, loadFactor })
    const moved: number[] = []
    const elsewhere: number[] = []
    for (const joiner of joiners) {
      const m = spaceMoved(before, before.withPeer(joiner), joiner)
      moved.push(m.moved)
      elsewhere.push(m.moved - m.ofPeer)
    }
    const leaveElsewhere: number[] = []
    for (const leaver of hundred.slice(0, joins)) {
      const m = spaceMoved(before, before.withoutPeer(leaver), leaver)
      leaveElsewhere.push(m.moved - m.ofPeer)
    }
    const p3 = (x: number): string => `${(100 * x).toFixed(3)} %`
    const mark = loadFactor === DEFAULT_LOAD_FACTOR ? ' (default)' : ''
    const pair = (xs: number[]): string => `${p3(mean(xs)).padStart(8)} ${p3(Math.max(...xs)).padStart(8)}`
    console.log(`  ${lf(loadFactor).padStart(10)}   ${f2(mean(maxes)).padStart(8)} ${f2(Math.max(...maxes)).padStart(6)} ${pct(mean(stds)).padStart(6)}   ${pair(moved)}   ${pair(elsewhere)}   ${pair(leaveElsewhere)}   ${builds.sort((a, b) => a - b)[sets >> 1].toFixed(0).padStart(8)}${mark}`)
  }
}

export async function run (args: string[]): Promise<void> {
  const quick = args.includes('--quick')
  const random = new SeededRandom(20240601)
  console.log(`\n== ring (seed ${random.seed}, default vnodes ${DEFAULT_VNODES}, default loadFactor ${DEFAULT_LOAD_FACTOR}) ==`)
  const lookupKeys = keys(random.fork('lookup-keys'), 16_384)
  const loadKeys = keys(random.fork('load-keys'), quick ? 200_000 : 1_000_000)
  hashSection(lookupKeys)
  lookupSection(random, lookupKeys)
  loadSection(random, loadKeys)
  joinSection(random, loadKeys)
  spreadOverPeerSets(random)
  loadFactorSection(random)
  memorySection(random)
}
