import { describe, expect, it } from 'vitest'
import { stringCodec } from '../../src/node/codecs.js'
import { QuorumNotReachedError } from '../../src/replication/errors.js'
import { PeerMesh } from '../node/peer-mesh.js'

function meshOf (n: number, seed = 7, options = {}): PeerMesh {
  const mesh = new PeerMesh(seed, {
    namespaces: [{ name: 'sync', replication: 'sync', replicas: 3 }, { name: 'async', replication: 'async', replicas: 3 }],
    antiEntropyIntervalMs: 0,
    ...options
  })
  mesh.add(n)
  expect(mesh.runUntilRingsAgree()).toBeGreaterThanOrEqual(0)
  mesh.sim.runFor(2000)
  return mesh
}

/** The key's replicas (primary first) and a peer that is not one of them. */
function placement (mesh: PeerMesh, ns: string, key: string): { replicas: string[], outsider: string } {
  const replicas = mesh.peer('p1').ring.preferenceList(ns, key, 3)
  return { replicas, outsider: mesh.live().find((p) => !replicas.includes(p))! }
}

const str = (mesh: PeerMesh, peer: string, ns: string) => mesh.peer(peer).namespace(ns, { codec: stringCodec })

describe('coordinator: read modes', () => {
  it('local reads this peer\'s copy (may be stale); quorum reads the newest and repairs the stale replica first', async () => {
    const mesh = meshOf(6)
    const { replicas } = placement(mesh, 'sync', 'k')
    await mesh.settle(str(mesh, replicas[0], 'sync').set('k', 'v1'))
    const stale = replicas[2]
    mesh.peer(stale).engine.namespace('sync')!.store.forget('k') // this replica lost its copy
    expect(await mesh.settle(str(mesh, stale, 'sync').get('k', { read: 'local' }))).toBeUndefined()
    const repairsBefore = mesh.peer(stale).stats().replication.counters.readRepairs
    // a quorum read from the stale replica itself: the newest version wins, and it is repaired before the answer
    expect(await mesh.settle(str(mesh, stale, 'sync').get('k', { read: 'quorum' }))).toBe('v1')
    expect(mesh.peer(stale).stats().replication.counters.readRepairs).toBe(repairsBefore + 1)
    expect(await mesh.settle(str(mesh, stale, 'sync').get('k', { read: 'local' }))).toBe('v1')
  })

  it('a non-replica forwards reads to the key\'s primary in one hop', async () => {
    const mesh = meshOf(6)
    const { outsider } = placement(mesh, 'async', 'k')
    await mesh.settle(str(mesh, 'p1', 'async').set('k', 'v'))
    const before = mesh.peer(outsider).stats().replication.counters.forwarded
    expect(await mesh.settle(str(mesh, outsider, 'async').get('k', { read: 'local' }))).toBe('v')
    expect(mesh.peer(outsider).stats().replication.counters.forwarded).toBe(before + 1)
    expect(mesh.peer(outsider).engine.namespace('async')!.store.getEntry('k')).toBeUndefined()
  })

  it('primary reads fail over to the next replica while the primary is down (not yet declared dead)', async () => {
    const mesh = meshOf(6)
    const { replicas, outsider } = placement(mesh, 'async', 'k')
    await mesh.settle(str(mesh, outsider, 'async').set('k', 'v'))
    mesh.sim.runFor(100)
    mesh.sim.crash(replicas[0])
    expect(await mesh.settle(str(mesh, outsider, 'async').get('k', { read: 'primary' }))).toBe('v')
    expect(mesh.peer(outsider).stats().replication.counters.failovers).toBeGreaterThan(0)
  })
})

describe('coordinator: sync writes', () => {
  it('W of 3 acks: one replica down still acknowledges; the down replica gets a hint, delivered when it is back', async () => {
    const mesh = meshOf(6)
    const { replicas, outsider } = placement(mesh, 'sync', 'h')
    mesh.sim.crash(replicas[1])
    await mesh.settle(str(mesh, outsider, 'sync').set('h', 'v'))
    const hints = mesh.peer(outsider).stats().replication.hints
    expect(hints.stored).toBe(1)
    mesh.sim.restart(replicas[1])
    mesh.sim.runFor(3000)
    expect(mesh.peer(outsider).stats().replication.hints.delivered).toBe(1)
    expect(mesh.peer(replicas[1]).engine.namespace('sync')?.store.getEntry('h')?.value).toEqual(new TextEncoder().encode('v'))
  })

  it('two of three replicas down: QuorumNotReachedError, outcome unknown (one replica applied it)', async () => {
    const mesh = meshOf(6, 7, { requestTimeoutMs: 500 })
    const { replicas, outsider } = placement(mesh, 'sync', 'q')
    mesh.sim.crash(replicas[0])
    mesh.sim.crash(replicas[1])
    const err = await mesh.settle(str(mesh, outsider, 'sync').set('q', 'v')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(QuorumNotReachedError)
    expect(err).toMatchObject({ acks: 1, needed: 2, outcome: 'unknown' })
    // a quorum read cannot be answered either, and says it had no effect
    await expect(mesh.settle(str(mesh, outsider, 'sync').get('q'))).rejects.toMatchObject({ code: 'ERR_QUORUM_NOT_REACHED', outcome: 'none' })
  })

  it('a coordinator with a stale ring is told not-owner and re-routes to the key\'s real replicas', async () => {
    const mesh = meshOf(8)
    const stale = mesh.peer('p1')
    // p1 routes as if p8 were not in the mesh
    stale.engine.setRing(mesh.rings.ring(mesh.live().filter((p) => p !== 'p8')))
    const keys = Array.from({ length: 40 }, (_, i) => `r${i}`)
    await mesh.settle(Promise.all(keys.map(async (k) => { await str(mesh, 'p1', 'sync').set(k, 'v') })))
    expect(stale.stats().replication.counters.reroutes).toBeGreaterThan(0)
    const truth = mesh.rings.ring(mesh.live())
    for (const k of keys) {
      const holders = truth.preferenceList('sync', k, 3).filter((p) => mesh.peer(p).engine.namespace('sync')!.store.getEntry(k) !== undefined)
      expect(holders.length, k).toBeGreaterThanOrEqual(2)
    }
  })
})

describe('coordinator: async writes', () => {
  it('while the primary is down, the next replica takes the write as acting primary', async () => {
    const mesh = meshOf(6)
    const { replicas, outsider } = placement(mesh, 'async', 'f')
    mesh.sim.crash(replicas[0])
    await mesh.settle(str(mesh, outsider, 'async').set('f', 'v'))
    expect(mesh.peer(outsider).stats().replication.counters.failovers).toBeGreaterThan(0)
    expect(mesh.peer(replicas[1]).engine.namespace('async')!.store.getEntry('f')?.version.writerId).toBe(replicas[1])
  })
})
