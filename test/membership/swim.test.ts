import { describe, expect, it } from 'vitest'
import { SeededRandom } from '../../src/env/random.js'
import { InvalidOptionError } from '../../src/errors.js'
import { Swim } from '../../src/membership/swim.js'
import { CoreCluster } from './core-harness.js'

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `m${i + 1}`)

/** A settled mesh of n members (lan preset unless told otherwise). */
function settled (n: number, options: ConstructorParameters<typeof Swim>[0] extends infer T ? Partial<T> : never = {}): CoreCluster {
  const c = new CoreCluster()
  c.mesh(ids(n), options)
  c.run(5_000)
  return c
}

describe('Swim core: joining', () => {
  it('joins through a seed: every member learns every other, and views agree', () => {
    const c = settled(5)
    for (const [id, core] of c.cores) {
      expect(core.members().filter((m) => m.state === 'alive').map((m) => m.id).sort(), id).toEqual(ids(5))
    }
    expect(new Set([...c.cores.values()].map((core) => core.checksum())).size).toBe(1)
    expect(c.eventsOf('joined').every(({ e }) => e.reason === 'new-member')).toBe(true)
  })

  it('refuses bad construction options with a clear message', () => {
    const random = new SeededRandom(1)
    expect(() => new Swim({ id: '', address: 'a', random, maxDatagramBytes: 1400 })).toThrow(InvalidOptionError)
    expect(() => new Swim({ id: 'a', address: 'a', random, maxDatagramBytes: 100 })).toThrow(/maxDatagramBytes must be an integer >= 512/)
    expect(() => new Swim({ id: 'a', address: 'a', random, maxDatagramBytes: 1400, meta: { x: 'y'.repeat(600) } })).toThrow(/meta: .*raise maxMetadataBytes/)
  })
})

describe('Swim core: failure detection', () => {
  it('suspects a crashed member, then declares it dead everywhere', () => {
    const c = settled(6)
    const crashAt = c.now
    c.crash('m4')
    c.run(40_000)
    for (const id of ids(6)) if (id !== 'm4') expect(c.stateOf(id, 'm4'), `${id}'s view of m4`).toBe('dead')
    const suspicions = c.eventsOf('suspect', 'm4')
    expect(suspicions.some(({ e }) => e.reason === 'probe-failed')).toBe(true)
    const firstSuspect = Math.min(...suspicions.map(({ e }) => e.atMs))
    const firstDead = Math.min(...c.eventsOf('dead', 'm4').map(({ e }) => e.atMs))
    expect(firstSuspect).toBeGreaterThan(crashAt)
    expect(firstDead).toBeGreaterThan(firstSuspect)
    expect(c.eventsOf('dead', 'm4').some(({ e }) => e.reason === 'suspect-timeout')).toBe(true)
    // nobody else was harmed
    expect(c.eventsOf('dead').every(({ e }) => e.member.id === 'm4')).toBe(true)
    expect(new Set(ids(6).filter((id) => id !== 'm4').map((id) => c.cores.get(id)!.checksum())).size).toBe(1)
  })

  it('confirmations from independent probers shorten the suspicion (Lifeguard) compared with plain SWIM timing at max', () => {
    const withLifeguard = settled(8)
    withLifeguard.crash('m5')
    const t0 = withLifeguard.now
    withLifeguard.run(60_000)
    const deadAt = Math.min(...withLifeguard.eventsOf('dead', 'm5').map(({ e }) => e.atMs)) - t0
    // the longest possible timeout (no confirmation) is 6 x the minimum (2 x log10(8) x 1 s ~ 1.8 s): ~10.8 s
    expect(deadAt).toBeLessThan(9000)
    const confirmations = [...withLifeguard.cores.values()].reduce((n, core) => n + core.counters.confirmations, 0)
    expect(confirmations).toBeGreaterThan(0)
  })

  it('a suspected live member refutes by raising its incarnation, and nobody declares it dead', () => {
    const c = settled(4)
    c.inject('m1', 'm2', { type: 'gossip', sourceId: 'm2', updates: [{ kind: 'suspect', id: 'm3', incarnation: 0, accusers: ['m2'] }] })
    expect(c.stateOf('m1', 'm3')).toBe('suspect')
    c.run(30_000)
    expect(c.cores.get('m3')!.incarnation).toBe(1)
    expect(c.eventsOf('refuted', 'm3').map(({ at, e }) => [at, e.reason])).toContainEqual(['m3', 'suspected'])
    expect(c.eventsOf('alive', 'm3').some(({ at, e }) => at === 'm1' && e.reason === 'refutation')).toBe(true)
    expect(c.eventsOf('dead')).toEqual([])
    for (const id of ids(4)) expect(c.cores.get(id)!.member('m3')).toMatchObject({ state: 'alive', incarnation: 1 })
  })

  it('refutes, never obeys, a message claiming a higher incarnation, death or departure for itself', () => {
    const c = settled(3)
    const m2 = c.cores.get('m2')!
    c.inject('m2', 'm1', { type: 'gossip', sourceId: 'm1', updates: [{ kind: 'alive', id: 'm2', incarnation: 5, address: 'elsewhere', meta: {} }] })
    expect(m2.incarnation).toBe(6)
    expect(m2.member('m2')).toMatchObject({ state: 'alive', address: 'm2' })
    c.inject('m2', 'm1', { type: 'gossip', sourceId: 'm1', updates: [{ kind: 'dead', id: 'm2', incarnation: 6, from: 'm1' }] })
    expect(m2.incarnation).toBe(7)
    c.inject('m2', 'm1', { type: 'gossip', sourceId: 'm1', updates: [{ kind: 'left', id: 'm2', incarnation: 9 }] })
    expect(m2.incarnation).toBe(10)
    // an older claim is stale: no refutation needed, our view does not move
    c.inject('m2', 'm1', { type: 'gossip', sourceId: 'm1', updates: [{ kind: 'suspect', id: 'm2', incarnation: 3, accusers: ['m1'] }] })
    expect(m2.incarnation).toBe(10)
    expect(c.eventsOf('refuted', 'm2').map(({ e }) => e.reason)).toEqual(['incarnation-conflict', 'declared-dead', 'declared-left'])
    expect(m2.counters.refutations).toBe(3)
    c.run(10_000)
    for (const id of ids(3)) expect(c.cores.get(id)!.member('m2')).toMatchObject({ state: 'alive', incarnation: 10 })
  })

  it('a dead member that comes back under a higher incarnation rejoins; a stale alive does not resurrect it', () => {
    const c = settled(4)
    c.crash('m4')
    c.run(40_000)
    expect(c.stateOf('m1', 'm4')).toBe('dead')
    c.inject('m1', 'm2', { type: 'gossip', sourceId: 'm2', updates: [{ kind: 'alive', id: 'm4', incarnation: 0, address: 'm4', meta: {} }] })
    expect(c.stateOf('m1', 'm4')).toBe('dead')
    // restart: a fresh process with the same id, incarnation 0, joining again
    c.add('m4')
    c.cores.get('m4')!.join(['m1'], c.now)
    c.flush('m4')
    c.run(10_000)
    expect(c.cores.get('m4')!.incarnation).toBeGreaterThan(0)
    for (const id of ['m1', 'm2', 'm3']) expect(c.stateOf(id, 'm4'), id).toBe('alive')
    expect(c.eventsOf('joined', 'm4').filter(({ e }) => e.reason === 'rejoined').map(({ at }) => at).sort()).toEqual(['m1', 'm2', 'm3'])
  })

  it('buddy system: a probe of a suspect carries the suspicion, so the suspect hears of it at once', () => {
    const c = settled(3)
    c.inject('m1', 'm2', { type: 'gossip', sourceId: 'm2', updates: [{ kind: 'suspect', id: 'm3', incarnation: 0, accusers: ['m2'] }] })
    c.run(5_000)
    const pingToSuspect = c.sent.find((s) => s.from === 'm1' && s.to === 'm3' && s.message.type === 'ping' && s.at >= c.now - 5_000)
    expect(pingToSuspect).toBeDefined()
    expect(pingToSuspect!.message.updates[0]).toMatchObject({ kind: 'suspect', id: 'm3' })
  })

  it('a graceful leave is seen as left, not dead, and is not refuted', () => {
    const c = settled(4)
    c.cores.get('m2')!.leave(c.now)
    c.flush('m2')
    c.run(1_000)
    c.crash('m2')
    c.run(20_000)
    for (const id of ['m1', 'm3', 'm4']) expect(c.stateOf(id, 'm2'), id).toBe('left')
    expect(c.eventsOf('dead')).toEqual([])
    expect(c.eventsOf('left', 'm2').every(({ e }) => e.reason === 'graceful-leave')).toBe(true)
  })

  it('reaps tombstones after the timeout', () => {
    const c = settled(3, { tombstoneTimeoutMs: 20_000 })
    c.crash('m3')
    c.run(15_000)
    expect(c.stateOf('m1', 'm3')).toBe('dead')
    c.run(30_000)
    expect(c.cores.get('m1')!.member('m3')).toBeUndefined()
    expect(c.eventsOf('reaped', 'm3').map(({ at, e }) => [at, e.reason]).sort()).toEqual([['m1', 'tombstone-expired'], ['m2', 'tombstone-expired']])
  })

  it('gossips metadata changes: others see updated', () => {
    const c = settled(3)
    c.cores.get('m1')!.setMetadata({ zone: 'eu-2' }, c.now)
    c.flush('m1')
    c.run(5_000)
    expect(c.cores.get('m3')!.member('m1')).toMatchObject({ meta: { zone: 'eu-2' }, incarnation: 1 })
    expect(c.eventsOf('updated', 'm1').some(({ at, e }) => at === 'm3' && e.reason === 'metadata-changed')).toBe(true)
  })
})

describe('Swim core: Lifeguard', () => {
  it('a member whose event loop lags stretches its probe interval', () => {
    const c = settled(5)
    const probes = (id: string): number => c.cores.get(id)!.counters.probes
    const before = { healthy: probes('m1'), lagging: probes('m2') }
    c.lag.set('m2', 2_500)
    c.run(20_000)
    expect(c.cores.get('m2')!.localHealth.score).toBeGreaterThan(0)
    expect(probes('m1') - before.healthy).toBeGreaterThanOrEqual(19)
    expect(probes('m2') - before.lagging).toBeLessThanOrEqual(8)
  })

  it('a slow member suspects less: with its timeouts stretched, a slow-to-answer peer is not accused', () => {
    const run = (lagging: boolean): number => {
      const c = settled(3, { reliableProbeFallback: false, indirectChecks: 0 })
      // m3's answers take 700 ms each way: over the 500 ms probe timeout, inside a stretched one
      c.latency.set('m3>m1', 700)
      c.latency.set('m1>m3', 700)
      if (lagging) c.lag.set('m1', 1_500)
      c.run(30_000)
      return c.eventsOf('suspect', 'm3').filter(({ at, e }) => at === 'm1' && e.reason === 'probe-failed').length
    }
    const healthy = run(false)
    const slow = run(true)
    expect(healthy).toBeGreaterThan(0)
    expect(slow).toBeLessThan(healthy)
  })

  it('plain SWIM (lifeguard: false) keeps a fixed timeout and does not stretch under lag', () => {
    const c = settled(5, { lifeguard: false })
    c.lag.set('m2', 2_500)
    c.run(10_000)
    expect(c.cores.get('m2')!.localHealth.score).toBe(0)
    c.crash('m5')
    c.run(40_000)
    // the suspicion lasts exactly the minimum timeout (2 x max(1, log10(5)) x 1 s), with no confirmation logic
    const suspectAt = Math.min(...c.eventsOf('suspect', 'm5').map(({ e }) => e.atMs))
    const deadAt = Math.min(...c.eventsOf('dead', 'm5').map(({ e }) => e.atMs))
    expect(deadAt - suspectAt).toBe(2000)
    expect([...c.cores.values()].reduce((n, core) => n + core.counters.confirmations, 0)).toBe(0)
  })
})

describe('Swim core: dissemination bounds', () => {
  it('never sends a datagram over the limit, however much is queued', () => {
    const c = settled(3)
    const updates = Array.from({ length: 100 }, (_, i) => ({ kind: 'alive' as const, id: `far-away-member-${i}`, incarnation: i, address: `10.1.${i}.9:7946`, meta: { zone: 'z'.repeat(40) } }))
    for (let i = 0; i < 100; i += 10) c.inject('m1', 'm2', { type: 'gossip', sourceId: 'm2', updates: updates.slice(i, i + 10) })
    c.run(10_000)
    const fromM1 = c.sent.filter((s) => s.from === 'm1')
    expect(Math.max(...fromM1.map((s) => s.bytes))).toBeLessThanOrEqual(1400)
    expect(Math.max(...fromM1.map((s) => s.message.updates.length))).toBeGreaterThan(5)
  })

  it('queues a bounded number of updates and counts what it drops', () => {
    const c = settled(2, { maxBroadcastQueueLength: 16 })
    const updates = Array.from({ length: 40 }, (_, i) => ({ kind: 'alive' as const, id: `x${i}`, incarnation: 0, address: `x${i}`, meta: {} }))
    c.inject('m1', 'm2', { type: 'gossip', sourceId: 'm2', updates })
    expect(c.cores.get('m1')!.queueLength).toBeLessThanOrEqual(16)
    expect(c.cores.get('m1')!.counters.queueDrops).toBeGreaterThan(0)
  })
})
