/**
 * Peer benchmark: the full Peer path (client API -> coordinator -> batched RPC -> codec -> simulated
 * network -> replica service -> store, and back) on an in-process mesh of 5 simulated peers with zero
 * latency, next to the plain LocalStore measured in the same run. The gap is the cost of routing,
 * replication, encoding and batching — what a real network adds comes on top (see `bench -- mesh` later).
 *
 * 20,000 keys of 16 bytes, values of 100 bytes, 3 replicas. Callers: 64 at once, each issuing its next
 * operation when the previous one answered, on a random peer and a random key (seeded). Rows:
 * async set / get (primary), sync set / get (quorum of 2 of 3), and for the store: set / get.
 *
 * `node --expose-gc dist/test/bench/index.js peer [--quick]`
 */
import { systemClock } from '../../src/env/clock.js'
import { SeededRandom } from '../../src/env/random.js'
import type { MeshcacheError } from '../../src/errors.js'
import { createPeer, type Peer } from '../../src/node/peer.js'
import { createRingCache } from '../../src/ring/ring-cache.js'
import { Simulator } from '../../src/sim/simulator.js'
import { LocalStore } from '../../src/storage/index.js'

const KEYS = 20_000
const VALUE_BYTES = 100
const CONCURRENCY = 64

function makeKeys (n: number): string[] {
  return Array.from({ length: n }, (_, i) => Buffer.from('key:' + String(i).padStart(12, '0'), 'latin1').toString('latin1'))
}

function buildMesh (): { sim: Simulator, peers: Peer[] } {
  const sim = new Simulator({ seed: 11, link: { latencyMs: 0, jitterMs: 0 } })
  const rings = createRingCache()
  const peers: Peer[] = []
  for (let i = 1; i <= 5; i++) {
    const address = `p${i}`
    sim.addHost(address, (ctx) => {
      const peer = createPeer({
        transport: ctx.transport, clock: ctx.clock, random: ctx.random, ringCache: rings, defaultNamespace: false,
        antiEntropyIntervalMs: 0,
        namespaces: i === 1 ? [{ name: 'async', replication: 'async', replicas: 3 }, { name: 'sync', replication: 'sync', replicas: 3 }] : []
      })
      peers.push(peer)
      peer.start()
      if (i > 1) void peer.join(['p1'])
      return { stop: () => peer.stop() }
    })
  }
  sim.runFor(20_000)
  return { sim, peers }
}

type Op = 'set' | 'get'

/** Runs `n` operations with CONCURRENCY callers; returns ops per wall second and errors. */
function load (sim: Simulator, peers: Peer[], ns: string, op: Op, keys: string[], n: number, seed: number): { opsPerSecond: number, errors: number } {
  const random = new SeededRandom(seed)
  const values = Array.from({ length: 64 }, () => random.bytes(VALUE_BYTES))
  let issued = 0
  let done = 0
  let errors = 0
  const next = (): void => {
    if (issued >= n) return
    issued++
    const peer = peers[random.int(peers.length)]
    const key = keys[random.int(keys.length)]
    const finish = (err: MeshcacheError | null): void => { if (err !== null) errors++; done++; next() }
    if (op === 'set') peer.engine.set(ns, key, values[issued & 63], 0, finish)
    else peer.engine.get(ns, key, undefined, finish)
  }
  const start = performance.now()
  for (let c = 0; c < CONCURRENCY; c++) next()
  while (done < n) sim.runFor(1)
  const seconds = (performance.now() - start) / 1000
  return { opsPerSecond: n / seconds, errors }
}

function storeLoad (keys: string[], n: number): { set: number, get: number } {
  const random = new SeededRandom(5)
  const values = Array.from({ length: 64 }, () => random.bytes(VALUE_BYTES))
  const store = new LocalStore({ clock: systemClock, writerId: 'bench' })
  const order = Array.from({ length: n }, () => keys[random.int(keys.length)])
  let t = performance.now()
  for (let i = 0; i < n; i++) store.set(order[i], values[i & 63])
  const set = n / ((performance.now() - t) / 1000)
  t = performance.now()
  for (let i = 0; i < n; i++) store.get(order[i])
  const get = n / ((performance.now() - t) / 1000)
  return { set, get }
}

const fmt = (x: number): string => x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0)

export async function run (args: string[]): Promise<void> {
  const quick = args.includes('--quick')
  const n = quick ? 20_000 : 100_000
  const keys = makeKeys(KEYS)
  console.log(`\n## peer — 5 simulated peers in one process, zero latency, 3 replicas, ${KEYS} keys, ${VALUE_BYTES}-byte values, ${CONCURRENCY} callers, ${n} operations per row`)
  const { sim, peers } = buildMesh()
  const before = peers.map((p) => p.stats().rpc)
  const rows: Array<[string, { opsPerSecond: number, errors: number }]> = []
  rows.push(['async set', load(sim, peers, 'async', 'set', keys, n, 1)])
  rows.push(['async get (primary)', load(sim, peers, 'async', 'get', keys, n, 2)])
  rows.push(['sync set (W 2 of 3)', load(sim, peers, 'sync', 'set', keys, n, 3)])
  rows.push(['sync get (quorum R 2 of 3)', load(sim, peers, 'sync', 'get', keys, n, 4)])
  const after = peers.map((p) => p.stats().rpc)
  const items = after.reduce((s, r, i) => s + r.itemsSent - before[i].itemsSent, 0)
  const batches = after.reduce((s, r, i) => s + r.batchesSent - before[i].batchesSent, 0)
  const store = storeLoad(keys, n * 4)
  console.log('| operation | through the Peer | plain LocalStore | Peer / store | errors |')
  console.log('|---|---|---|---|---|')
  for (const [name, r] of rows) {
    const anchor = name.includes('set') ? store.set : store.get
    console.log(`| ${name} | ${fmt(r.opsPerSecond)} ops/s | ${fmt(anchor)} ops/s | ${(r.opsPerSecond / anchor).toFixed(4)}x | ${r.errors} |`)
  }
  console.log(`batching: ${items} request items in ${batches} batches (${(items / Math.max(1, batches)).toFixed(1)} items per batch)`)
  sim.shutdown()
}
