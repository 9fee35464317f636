import { describe, expect, it } from 'vitest'
import { InvalidKeyError, InvalidOptionError, ValueTooLargeError } from '../../src/errors.js'
import { InvalidValueError, jsonCodec, stringCodec } from '../../src/node/codecs.js'
import { NamespaceConflictError, NotANumberError, PeerStoppedError, UnknownNamespaceError } from '../../src/replication/errors.js'
import { SeededRandom } from '../../src/env/random.js'
import { ManualClock } from '../../src/env/clock.js'
import { createPeer } from '../../src/node/peer.js'
import { PeerMesh } from './peer-mesh.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

function meshOf (n: number, seed = 1, options = {}): PeerMesh {
  const mesh = new PeerMesh(seed, { namespaces: [{ name: 'users', replication: 'sync', replicas: 3 }, { name: 'cache', replication: 'async', replicas: 3 }], ...options })
  mesh.add(n)
  expect(mesh.runUntilRingsAgree()).toBeGreaterThanOrEqual(0)
  mesh.sim.runFor(2000)
  return mesh
}

function holders (mesh: PeerMesh, ns: string, key: string): string[] {
  return mesh.live().filter((p) => mesh.peer(p).engine.namespace(ns)?.store.getEntry(key) !== undefined)
}

describe('Peer on the simulator', () => {
  it('serves any key from any peer: a value set through one peer is read through every other (sync)', async () => {
    const mesh = meshOf(5)
    const a = mesh.peer('p3').namespace('users', { codec: stringCodec })
    await mesh.settle(a.set('alice', 'Alice'))
    for (const p of mesh.live()) {
      expect(await mesh.settle(mesh.peer(p).namespace('users', { codec: stringCodec }).get('alice')), p).toBe('Alice')
    }
    expect(holders(mesh, 'users', 'alice').length).toBe(3)
  })

  it('async: the primary answers, the other replicas get the write in the background', async () => {
    const mesh = meshOf(6)
    const ns = mesh.peer('p1').namespace('cache', { codec: stringCodec })
    await mesh.settle(ns.set('k', 'v1'))
    mesh.sim.runFor(100)
    expect(holders(mesh, 'cache', 'k').length).toBe(3)
    const primary = mesh.peer('p1').ring.preferenceList('cache', 'k', 3)[0]
    // the version was minted by the primary (it applied the write first)
    const e = mesh.peer(primary).engine.namespace('cache')!.store.getEntry('k')!
    expect(e.version.writerId).toBe(primary)
  })

  it('spreads namespaces: one declared at runtime reaches every peer, and a peer that joins later learns it', async () => {
    const mesh = meshOf(4)
    mesh.peer('p2').declareNamespace({ name: 'sessions', replication: 'sync', replicas: 2 })
    mesh.sim.runFor(1000)
    for (const p of mesh.live()) expect(mesh.peer(p).namespaces().map((d) => d.name), p).toContain('sessions')
    mesh.add(1)
    mesh.sim.runFor(5000)
    const late = mesh.peer('p5')
    expect(late.namespaces().find((d) => d.name === 'sessions')).toMatchObject({ replication: 'sync', replicas: 2, writeQuorum: 2, readQuorum: 2 })
    await mesh.settle(late.namespace('sessions', { codec: stringCodec }).set('s1', 'x'))
    expect(await mesh.settle(mesh.peer('p1').namespace('sessions', { codec: stringCodec }).get('s1'))).toBe('x')
  })

  it('refuses a conflicting redefinition with a clear error; the same definition again is a no-op', () => {
    const mesh = meshOf(3)
    const p = mesh.peer('p1')
    expect(p.declareNamespace({ name: 'users', replication: 'sync', replicas: 3 }).replication).toBe('sync')
    expect(() => p.declareNamespace({ name: 'users', replication: 'async' })).toThrow(NamespaceConflictError)
    expect(() => p.declareNamespace({ name: 'users', replication: 'sync', replicas: 5 })).toThrow(/replicas 5 vs 3/)
    expect(() => p.declareNamespace({ name: 'x', replication: 'strong' })).toThrow(/not in this release/)
  })

  it('bad input: typed errors at the API and no side effect anywhere', async () => {
    const mesh = meshOf(4)
    const users = mesh.peer('p1').namespace('users')
    const before = mesh.live().map((p) => mesh.peer(p).engine.namespace('users')!.store.stats().entries)
    await expect(mesh.settle(mesh.peer('p1').namespace('nope').get('k'))).rejects.toBeInstanceOf(UnknownNamespaceError)
    await expect(mesh.settle(mesh.peer('p1').namespace('nope').set('k', enc('v')))).rejects.toMatchObject({ code: 'ERR_UNKNOWN_NAMESPACE', outcome: 'none' })
    await expect(mesh.settle(users.set('', enc('v')))).rejects.toBeInstanceOf(InvalidKeyError)
    await expect(mesh.settle(users.set('k\ud800', enc('v')))).rejects.toBeInstanceOf(InvalidKeyError)
    await expect(mesh.settle(users.set('k'.repeat(4097), enc('v')))).rejects.toBeInstanceOf(InvalidKeyError)
    await expect(mesh.settle(users.set('k', new Uint8Array(1024 * 1024 + 1)))).rejects.toBeInstanceOf(ValueTooLargeError)
    await expect(mesh.settle(users.set('k', 'text' as unknown as Uint8Array))).rejects.toBeInstanceOf(InvalidValueError)
    await expect(mesh.settle(users.set('k', enc('v'), { ttlMs: -5 }))).rejects.toBeInstanceOf(InvalidOptionError)
    await expect(mesh.settle(users.get('k', { read: 'nearest' as 'local' }))).rejects.toBeInstanceOf(InvalidOptionError)
    await expect(mesh.settle(users.incr('k', 1.5))).rejects.toBeInstanceOf(InvalidOptionError)
    const after = mesh.live().map((p) => mesh.peer(p).engine.namespace('users')!.store.stats().entries)
    expect(after).toEqual(before)
  })

  it('values through codecs: bytes, strings, JSON', async () => {
    const mesh = meshOf(3)
    const json = mesh.peer('p1').namespace('users', { codec: jsonCodec })
    await mesh.settle(json.set('u1', { name: 'Ada', tags: ['x'] }))
    expect(await mesh.settle(mesh.peer('p3').namespace('users', { codec: jsonCodec }).get('u1'))).toEqual({ name: 'Ada', tags: ['x'] })
    expect(await mesh.settle(mesh.peer('p2').namespace('users', { codec: stringCodec }).get('u1'))).toBe('{"name":"Ada","tags":["x"]}')
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    await expect(mesh.settle(json.set('u2', cyclic))).rejects.toBeInstanceOf(InvalidValueError)
  })

  it('batch operations, has, delete with its result', async () => {
    const mesh = meshOf(5)
    const ns = mesh.peer('p2').namespace('users', { codec: stringCodec })
    await mesh.settle(ns.setMany([['a', '1'], ['b', '2'], ['c', '3', { ttlMs: 60_000 }]]))
    expect(await mesh.settle(mesh.peer('p4').namespace('users', { codec: stringCodec }).getMany(['a', 'b', 'c', 'd']))).toEqual(['1', '2', '3', undefined])
    expect(await mesh.settle(ns.has('a'))).toBe(true)
    expect(await mesh.settle(ns.delete('a'))).toBe(true)
    expect(await mesh.settle(ns.delete('a'))).toBe(false)
    expect(await mesh.settle(ns.has('a'))).toBe(false)
    expect(await mesh.settle(ns.deleteMany(['b', 'c', 'zz']))).toBe(2)
    expect(await mesh.settle(ns.getMany(['a', 'b', 'c']))).toEqual([undefined, undefined, undefined])
  })

  it('ttl: a value expires on every replica at the same absolute time', async () => {
    const mesh = meshOf(4)
    const ns = mesh.peer('p1').namespace('users', { codec: stringCodec })
    await mesh.settle(ns.set('t', 'soon', { ttlMs: 5000 }))
    expect(await mesh.settle(ns.get('t'))).toBe('soon')
    mesh.sim.runFor(5100)
    expect(await mesh.settle(mesh.peer('p3').namespace('users', { codec: stringCodec }).get('t'))).toBeUndefined()
  })

  it('incr / decr: increments from every peer add up; a non-number is refused with NotANumberError', async () => {
    for (const name of ['users', 'cache']) {
      const mesh = meshOf(4, 3)
      for (let i = 0; i < 12; i++) await mesh.settle(mesh.peer(`p${1 + (i % 4)}`).namespace(name).incr('hits', 2))
      expect(await mesh.settle(mesh.peer('p1').namespace(name).decr('hits', 4))).toBe(20)
      expect(await mesh.settle(mesh.peer('p2').namespace(name, { codec: stringCodec }).get('hits'))).toBe('20')
      // concurrent increments at one primary are serialised: none is lost
      const all = mesh.live().flatMap((p) => [1, 2, 3].map(async () => await mesh.peer(p).namespace(name).incr('burst')))
      await mesh.settle(Promise.all(all))
      expect(await mesh.settle(mesh.peer('p3').namespace(name, { codec: stringCodec }).get('burst', { read: 'quorum' }))).toBe('12')
      await mesh.settle(mesh.peer('p1').namespace(name, { codec: stringCodec }).set('word', 'hello'))
      await expect(mesh.settle(mesh.peer('p2').namespace(name).incr('word'))).rejects.toBeInstanceOf(NotANumberError)
    }
  })

  it('scan by prefix and pattern, paged, across the mesh, without duplicates', async () => {
    const mesh = meshOf(5)
    const ns = mesh.peer('p1').namespace('users', { codec: stringCodec })
    const items: Array<[string, string]> = []
    for (let i = 0; i < 30; i++) items.push([`user:${String(i).padStart(2, '0')}`, `u${i}`])
    for (let i = 0; i < 10; i++) items.push([`order:${i}`, `o${i}`])
    await mesh.settle(ns.setMany(items))
    await mesh.settle(ns.delete('user:05'))
    const page = await mesh.settle(mesh.peer('p4').namespace('users', { codec: stringCodec }).scan({ prefix: 'user:', offset: 3, limit: 5 }))
    expect(page.items.map((i) => i.key)).toEqual(['user:03', 'user:04', 'user:06', 'user:07', 'user:08'])
    expect(page.total).toBe(29)
    expect(page.complete).toBe(true)
    const byPattern = await mesh.settle(ns.scan({ pattern: /^order:[0-4]$/, limit: 100 }))
    expect(byPattern.items.map((i) => i.value)).toEqual(['o0', 'o1', 'o2', 'o3', 'o4'])
    await expect(mesh.settle(ns.scan({ limit: 1_000_000 }))).rejects.toBeInstanceOf(InvalidOptionError)
  })

  it('coalesces requests to one peer into batched frames', async () => {
    const mesh = meshOf(4)
    const p = mesh.peer('p1')
    const before = p.stats().rpc
    const ns = p.namespace('users')
    await mesh.settle(Promise.all(Array.from({ length: 200 }, async (_, i) => { await ns.set(`k${i}`, enc('v')) })))
    const after = p.stats().rpc
    const items = after.itemsSent - before.itemsSent
    const batches = after.batchesSent - before.batchesSent
    expect(items).toBeGreaterThan(400)
    expect(batches).toBeLessThan(items / 20)
  })

  it('stop: operations in flight end with PeerStoppedError; later calls are refused', async () => {
    const mesh = meshOf(4)
    const p = mesh.peer('p2')
    const pending = p.namespace('users').set('x', enc('v'))
    p.stop()
    await expect(mesh.settle(pending)).rejects.toBeInstanceOf(PeerStoppedError)
    await expect(mesh.settle(p.namespace('users').get('x'))).rejects.toBeInstanceOf(PeerStoppedError)
  })

  it('refuses bad options at construction, naming the option', () => {
    const base = { transport: { address: 'a', maxDatagramBytes: 1400, setHandlers () {}, send () {}, request () {}, close () {} }, clock: new ManualClock(0), random: new SeededRandom(1) }
    expect(() => createPeer({ ...base, requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs/)
    expect(() => createPeer({ ...base, bogusOption: 1 } as never)).toThrow(/unknown replication option "bogusOption"/)
    expect(() => createPeer({ ...base, namespaces: [{ name: 'n', replicas: 0 }] })).toThrow(/replicas must be an integer/)
    expect(() => createPeer({ ...base, hintTtlMs: 600_000 })).toThrow(/hintTtlMs/)
  })
})
