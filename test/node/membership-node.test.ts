import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/env/clock.js'
import { MemoryLogger } from '../../src/env/logger.js'
import { SeededRandom } from '../../src/env/random.js'
import { InvalidOptionError } from '../../src/errors.js'
import { MembershipNode } from '../../src/node/membership-node.js'
import type { Transport } from '../../src/transport/transport.js'
import { WIRE_VERSION } from '../../src/wire/codec.js'
import { encodeMembershipMessage, MembershipType } from '../../src/wire/membership.js'
import { SimMesh } from './sim-mesh.js'

describe('MembershipNode on the simulator', () => {
  it('forms a mesh through a seed: views agree, traffic is counted per type, datagrams fit 1400 bytes', () => {
    const mesh = new SimMesh(1)
    mesh.add(8)
    expect(mesh.runUntilConverged(20_000)).toBeGreaterThanOrEqual(0)
    mesh.sim.runFor(30_000)
    const c = mesh.node('n3').counters()
    expect(c.sent.ping.messages).toBeGreaterThan(20)
    expect(c.received.ack.messages).toBeGreaterThan(20)
    expect(c.sent.ping.bytes).toBeGreaterThan(c.sent.ping.messages * 10)
    expect(c.messagesSent).toBe(Object.values(c.sent).reduce((n, t) => n + t.messages, 0))
    expect(c.maxDatagramBytesSent).toBeLessThanOrEqual(1400)
    expect(c.malformed).toEqual({})
    // about one probe and one ack per period per member, plus rare extras
    const perPeriod = c.messagesSent / 30
    expect(perPeriod).toBeGreaterThan(1.5)
    expect(perPeriod).toBeLessThan(3)
  })

  it('detects a crash: suspect, then dead everywhere, with reasons and times', () => {
    const mesh = new SimMesh(2)
    mesh.add(10)
    mesh.runUntilConverged(20_000)
    const crashAt = mesh.sim.now()
    mesh.sim.crash('n7')
    mesh.sim.runFor(30_000)
    for (const a of mesh.liveAddresses()) expect(mesh.node(a).member('n7')?.state, a).toBe('dead')
    const suspects = mesh.eventsOf('suspect', 'n7')
    const deaths = mesh.eventsOf('dead', 'n7')
    expect(suspects.some(({ e }) => e.reason === 'probe-failed')).toBe(true)
    expect(deaths.some(({ e }) => e.reason === 'suspect-timeout')).toBe(true)
    expect(new Set(deaths.map(({ at }) => at)).size).toBe(9)
    const firstSuspect = Math.min(...suspects.map(({ e }) => e.atMs))
    expect(firstSuspect - crashAt).toBeLessThan(5 * 1000)
    expect(Math.max(...deaths.map(({ e }) => e.atMs)) - crashAt).toBeLessThan(14_000)
    expect(mesh.eventsOf('dead').filter(({ e }) => e.member.id !== 'n7')).toEqual([])
  })

  it('measures its own event-loop lag from late timers and feeds Lifeguard: a paused node refutes and survives', () => {
    const mesh = new SimMesh(3)
    mesh.add(10)
    mesh.runUntilConverged(20_000)
    mesh.sim.pause('n4', 4_000)
    mesh.sim.runFor(4_100)
    const n4 = mesh.node('n4')
    expect(n4.counters().maxLagMs).toBeGreaterThan(3_000)
    expect(n4.localHealth.score).toBeGreaterThan(0)
    mesh.sim.runFor(30_000)
    expect(mesh.eventsOf('suspect', 'n4').length).toBeGreaterThan(0)
    expect(mesh.eventsOf('refuted', 'n4').length).toBeGreaterThan(0)
    expect(mesh.eventsOf('dead')).toEqual([])
    expect(mesh.runUntilConverged(10_000)).toBeGreaterThanOrEqual(0)
  })

  it('Lifeguard cuts false positives from 2-5 s stalls against plain SWIM on the same seed', () => {
    const falseDeaths = (lifeguard: boolean): number => {
      const mesh = new SimMesh(4, { lifeguard })
      mesh.add(24)
      mesh.runUntilConverged(20_000)
      const rnd = mesh.sim.random.fork('stalls')
      const start = mesh.sim.now()
      for (let i = 1; i <= 24; i++) {
        for (let k = 0; k < 2; k++) {
          const at = start + k * 60_000 + rnd.int(50_000)
          mesh.sim.schedule(at, () => mesh.sim.pause(`n${i}`, 2_000 + rnd.int(3_001)))
        }
      }
      mesh.sim.runFor(130_000)
      return mesh.eventsOf('dead').length
    }
    const swim = falseDeaths(false)
    const lifeguard = falseDeaths(true)
    expect(swim).toBeGreaterThan(20)
    expect(lifeguard * 20).toBeLessThan(swim)
  })

  it('leaves gracefully: the others see left, the node stops after lingering', async () => {
    const mesh = new SimMesh(5)
    mesh.add(5)
    mesh.runUntilConverged(20_000)
    const done = mesh.node('n2').leave()
    mesh.sim.runFor(5_000)
    await done
    expect(mesh.node('n2').stopped).toBe(true)
    for (const a of ['n1', 'n3', 'n4', 'n5']) expect(mesh.node(a).member('n2')?.state, a).toBe('left')
    mesh.sim.runFor(20_000)
    expect(mesh.eventsOf('dead')).toEqual([])
  })

  it('merges back by itself after a partition heals', () => {
    const mesh = new SimMesh(6)
    mesh.add(12)
    mesh.runUntilConverged(20_000)
    const left = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6']
    mesh.sim.network.partition([left, ['n7', 'n8', 'n9', 'n10', 'n11', 'n12']])
    mesh.sim.runFor(60_000)
    expect(mesh.node('n1').member('n9')?.state).toBe('dead')
    expect(mesh.node('n9').member('n1')?.state).toBe('dead')
    mesh.sim.network.heal()
    const took = mesh.runUntilConverged(60_000)
    expect(took).toBeGreaterThanOrEqual(0)
    expect(took).toBeLessThanOrEqual(30_000)
  })

  it('a restarted process rejoins under a higher incarnation', () => {
    const mesh = new SimMesh(7)
    mesh.add(5)
    mesh.runUntilConverged(20_000)
    mesh.sim.crash('n3')
    mesh.sim.runFor(30_000)
    expect(mesh.node('n1').member('n3')?.state).toBe('dead')
    mesh.sim.restart('n3')
    expect(mesh.runUntilConverged(20_000)).toBeGreaterThanOrEqual(0)
    expect(mesh.node('n1').member('n3')!.incarnation).toBeGreaterThan(0)
    expect(mesh.eventsOf('joined', 'n3').some(({ e }) => e.reason === 'rejoined')).toBe(true)
  })

  it('reports how a join went, including seeds that could not be reached', async () => {
    const mesh = new SimMesh(8)
    mesh.add(2)
    mesh.sim.runFor(1_000)
    const result = mesh.node('n2').join(['n1', 'nowhere'])
    mesh.sim.runFor(2_000)
    const r = await result
    expect(r.joined).toBe(1)
    expect(r.failed).toEqual([{ address: 'nowhere', reason: 'unreachable' }])
  })

  it('drops malformed input, counts it by reason, logs it once, and carries on', () => {
    const logger = new MemoryLogger('debug')
    const mesh = new SimMesh(9, {}, logger)
    mesh.add(3)
    let evil: Transport | undefined
    mesh.sim.addHost('evil', (ctx) => { evil = ctx.transport; ctx.transport.setHandlers({ onMessage: () => {}, onRequest: () => {} }); return { stop: () => {} } })
    mesh.runUntilConverged(20_000)
    const ping = encodeMembershipMessage({ type: 'ping', seq: 1, targetId: 'n1', sourceId: 'evil', viewChecksum: 0, updates: [] })
    for (let i = 0; i < 5; i++) {
      evil!.send('n1', Uint8Array.of(WIRE_VERSION + 1, MembershipType.ping, 0))
      evil!.send('n1', Uint8Array.of(WIRE_VERSION, MembershipType.ping, 0xff))
      evil!.send('n1', Uint8Array.of(WIRE_VERSION, 0x31, 1, 2, 3))
      evil!.send('n1', ping.subarray(0, ping.length - 3))
      evil!.send('n1', encodeMembershipMessage({ type: 'push-pull-reply', members: [] }))
      evil!.send('n1', new Uint8Array(0))
    }
    evil!.request('n1', Uint8Array.of(1, 2, 3), 1000, () => {})
    mesh.node('n1').handleMessage('evil', new Uint8Array(1500))
    mesh.sim.runFor(2_000)
    const c = mesh.node('n1').counters()
    expect(c.malformed).toEqual({
      'unknown-version': 5, // wrong version byte
      'not-membership': 6, // a key-value frame, five times by datagram and once as a request
      'unexpected-type': 5, // a push-pull reply sent as a datagram
      truncated: 15, // a cut varint, a cut ping, an empty payload
      'frame-too-large': 1 // over the transport's datagram size
    })
    const warnings = logger.records.filter((r) => r.level === 'warn' && r.fields.host === 'n1')
    expect(warnings.filter((r) => r.msg.includes('unknown protocol version'))).toHaveLength(1)
    expect(warnings.length).toBeLessThanOrEqual(6)
    // a well-formed ping from a stranger is still answered
    evil!.send('n1', ping)
    mesh.sim.runFor(30_000)
    expect(mesh.converged()).toBe(true)
  })

  it('keeps running when an event listener throws', () => {
    const mesh = new SimMesh(10)
    mesh.add(3)
    mesh.node('n1').onEvent(() => { throw new Error('listener bug') })
    expect(mesh.runUntilConverged(20_000)).toBeGreaterThanOrEqual(0)
    expect(mesh.node('n1').counters().listenerErrors).toBeGreaterThan(0)
  })

  it('gossips metadata with the member and its changes', () => {
    const mesh = new SimMesh(11, { metadata: { zone: 'eu-1' } })
    mesh.add(4)
    mesh.runUntilConverged(20_000)
    expect(mesh.node('n4').member('n1')?.meta).toEqual({ zone: 'eu-1' })
    mesh.node('n1').setMetadata({ zone: 'eu-2' })
    mesh.sim.runFor(5_000)
    expect(mesh.node('n4').member('n1')?.meta).toEqual({ zone: 'eu-2' })
    expect(mesh.eventsOf('updated', 'n1').some(({ at }) => at === 'n4')).toBe(true)
  })

  it('refuses bad options at construction', () => {
    const clock = new ManualClock()
    const random = new SeededRandom(1)
    const transport: Transport = { address: 'a', maxDatagramBytes: 1400, setHandlers: () => {}, send: () => {}, request: () => {}, close: () => {} }
    expect(() => new MembershipNode({ transport, clock, random, probeIntervalMs: -5 })).toThrow(InvalidOptionError)
    expect(() => new MembershipNode({ transport, clock, random, preset: 'moon' as 'lan' })).toThrow(/preset must be one of/)
    expect(() => new MembershipNode({ transport: undefined as unknown as Transport, clock, random })).toThrow(/transport must be a Transport/)
  })
})
