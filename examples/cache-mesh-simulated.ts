/**
 * A cache mesh of five peers on the deterministic simulator, through the client API: a sync namespace
 * (quorum writes and reads), a read-through fetch with one loader call across the mesh, a crash that the
 * mesh rides out, and a peer that joins and takes over its share of the keys.
 * Run: `npm run build && node dist/examples/cache-mesh-simulated.js`.
 */
import { createPeer, createRingCache, runUntilSettled, Simulator, stringCodec, type Peer } from '../src/index.js'

const sim = new Simulator({ seed: 7, link: { latencyMs: 2, jitterMs: 1 } })
const rings = createRingCache()
const peers = new Map<string, Peer>()
const addPeer = (address: string): void => {
  sim.addHost(address, (ctx) => {
    const peer = createPeer({
      transport: ctx.transport, clock: ctx.clock, random: ctx.random, ringCache: rings,
      namespaces: [{ name: 'sessions', replication: 'sync', replicas: 3 }]
    })
    peers.set(address, peer)
    peer.start()
    if (address !== 'p1') void peer.join(['p1'])
    return { stop: () => { peer.stop() } }
  })
}
for (const a of ['p1', 'p2', 'p3', 'p4', 'p5']) addPeer(a)
sim.runFor(10_000)

const on = (address: string) => peers.get(address)!.namespace('sessions', { codec: stringCodec })
await runUntilSettled(sim, on('p1').set('user:1', 'alice', { ttlMs: 600_000 }))
console.log('get through p4 ->', await runUntilSettled(sim, on('p4').get('user:1')))

let loads = 0
// a slow "database": 50 ms of virtual time per lookup
const slowDatabase = async (key: string): Promise<string> => {
  loads++
  return await new Promise((resolve) => sim.after(50, () => resolve(`profile of ${key}`)))
}
const fetches = [...peers.keys()].flatMap((a) => [1, 2, 3].map(async () => await on(a).fetch('user:2', slowDatabase)))
console.log('15 concurrent fetches ->', new Set(await runUntilSettled(sim, Promise.all(fetches))), `(${loads} loader call)`)

sim.crash('p2')
console.log('p2 crashed; get through p3 ->', await runUntilSettled(sim, on('p3').get('user:1')))
sim.runFor(15_000)
addPeer('p6')
sim.runFor(10_000)
const held = [...peers].filter(([a, p]) => sim.isUp(a) && !p.stopped && p.engine.namespace('sessions')!.store.getEntry('user:1') !== undefined).map(([a]) => a)
console.log('user:1 is held by', held.join(', '), '— ring of', peers.get('p1')!.ring.size, 'peers')
sim.shutdown()
