import { describe, expect, it } from 'vitest'
import { stringCodec } from '../../src/node/codecs.js'
import { PeerMesh } from './peer-mesh.js'

describe('Peer on the simulator', () => {
  it('serves any key from any peer: a value set through one peer is read through every other (sync)', async () => {
    const mesh = new PeerMesh(1, { namespaces: [{ name: 'users', replication: 'sync', replicas: 3 }] })
    mesh.add(5)
    expect(mesh.runUntilRingsAgree()).toBeGreaterThanOrEqual(0)
    mesh.sim.runFor(2000)
    const a = mesh.peer('p3').namespace('users', { codec: stringCodec })
    await mesh.settle(a.set('alice', 'Alice'))
    for (const p of mesh.live()) {
      expect(await mesh.settle(mesh.peer(p).namespace('users', { codec: stringCodec }).get('alice')), p).toBe('Alice')
    }
    // three replicas hold it
    const holders = mesh.live().filter((p) => mesh.peer(p).engine.namespace('users')!.store.has('alice'))
    expect(holders.length).toBe(3)
  })
})
