import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../src/errors.js'
import { Simulator, randomNemesis } from '../../src/sim/index.js'
import type { SimulatorInit } from '../../src/sim/index.js'
import type { TransportError } from '../../src/transport/transport.js'
import { addRecorder, byte } from './helpers.js'

/** Random traffic (messages and requests) between 20 hosts under a random nemesis; returns what a user sees. */
function chaosRun (seed: number, extra: Partial<SimulatorInit> = {}): { hash: string, delivered: number, faults: number, crashes: number, plan: string, lines: string[] } {
  const sim = new Simulator({ seed, traceMessages: true, trace: 2000, link: { latencyMs: 2, jitterMs: 8, loss: 0.05, duplicate: 0.02, reorder: 0.05 }, ...extra })
  const addresses = Array.from({ length: 20 }, (_, i) => `p${i}`)
  for (const address of addresses) {
    sim.addHost(address, ({ transport, clock, random }) => {
      let stopped = false
      transport.setHandlers({
        onMessage () {},
        onRequest (_from, payload, respond) { if (random.chance(0.9)) respond(payload.slice(0, 4)) }
      })
      const tick = (): void => {
        if (stopped) return
        const to = random.pick(addresses)!
        if (random.chance(0.2)) transport.request(to, random.bytes(16), 200, () => {})
        else transport.send(to, random.bytes(1 + random.int(64)))
        clock.setTimer(10 + random.int(90), tick)
      }
      clock.setTimer(random.int(100), tick)
      return { stop () { stopped = true } }
    })
  }
  const nemesis = randomNemesis(sim, { endMs: 20_000, crashesPerMinute: 12, pausesPerMinute: 20, partitionsPerMinute: 6, blocksPerMinute: 6, skewsPerMinute: 6, restartAfterMs: 2_000, pauseMs: 500, partitionMs: 3_000, blockMs: 2_000 })
  sim.runFor(25_000)
  return {
    hash: sim.trace.hash(),
    delivered: sim.network.stats().delivered,
    faults: nemesis.log.length,
    crashes: nemesis.log.filter((e) => e.event.type === 'crash' && e.applied).length,
    plan: JSON.stringify(nemesis.log.map((e) => e.event)),
    lines: sim.trace.lines()
  }
}

describe('Simulator determinism', () => {
  it('gives a byte-identical trace for the same seed and a different one for another seed', () => {
    const a = chaosRun(12345)
    const b = chaosRun(12345)
    const c = chaosRun(12346)
    expect(a.crashes).toBeGreaterThan(0)
    expect(a.faults).toBeGreaterThan(10)
    expect(a.delivered).toBeGreaterThan(1000)
    expect(a.lines).toHaveLength(2000)
    expect(b).toEqual(a) // hash, counters, fault log and the last 2,000 trace lines, byte for byte
    expect(c.hash).not.toBe(a.hash)
    expect(c.plan).not.toBe(a.plan)
    expect(a.hash).toMatch(/^[0-9a-f]{16}$/)
  })

  it('hashes the fault schedule even when message deliveries are not traced', () => {
    const a = chaosRun(7, { traceMessages: false })
    const b = chaosRun(7, { traceMessages: false })
    const c = chaosRun(8, { traceMessages: false })
    expect(b.hash).toBe(a.hash)
    expect(c.hash).not.toBe(a.hash)
    expect(chaosRun(7).hash).not.toBe(a.hash)
  })

  it('keeps at most the requested number of trace records but hashes them all', () => {
    const sim = new Simulator({ seed: 1, trace: 3 })
    for (let i = 0; i < 5; i++) sim.trace.record('tick', { i })
    expect(sim.trace.count).toBe(6) // sim-start + 5
    expect(sim.trace.records().map((r) => r.fields.i)).toEqual([2, 3, 4])
    const unkept = new Simulator({ seed: 1 })
    for (let i = 0; i < 5; i++) unkept.trace.record('tick', { i })
    expect(unkept.trace.records()).toEqual([])
    expect(unkept.trace.hash()).toBe(sim.trace.hash())
  })
})

describe('SimNetwork links', () => {
  it('delivers after the link latency plus jitter, per directed link', () => {
    const sim = new Simulator({ seed: 2, link: { latencyMs: 50, jitterMs: 20 } })
    const a = addRecorder(sim, 'a')
    const b = addRecorder(sim, 'b')
    const c = addRecorder(sim, 'c')
    sim.network.setLink('a', 'c', { latencyMs: 200, jitterMs: 0 })
    for (let i = 0; i < 200; i++) a.current().ctx.transport.send('b', byte(i))
    a.current().ctx.transport.send('c', byte(1))
    c.current().ctx.transport.send('a', byte(2))
    sim.runFor(1000)
    const times = b.current().messages.map(([t]) => t)
    expect(times).toHaveLength(200)
    expect(Math.min(...times)).toBeGreaterThanOrEqual(50)
    expect(Math.max(...times)).toBeLessThan(70)
    expect(Math.min(...times)).toBeLessThan(52)
    expect(Math.max(...times)).toBeGreaterThan(68)
    expect(c.current().messages).toEqual([[200, 'a', 1]])
    expect(a.current().messages.map(([t]) => t)[0]).toBeLessThan(70) // c -> a keeps the defaults
  })

  it('draws exponential jitter with the given mean and a long tail', () => {
    const sim = new Simulator({ seed: 23, link: { latencyMs: 10, jitterMs: 20, jitterDistribution: 'exponential' } })
    const a = addRecorder(sim, 'a')
    const b = addRecorder(sim, 'b')
    for (let i = 0; i < 10_000; i++) a.current().ctx.transport.send('b', byte(i))
    sim.runFor(10_000)
    const extra = b.current().messages.map(([t]) => t - 10)
    expect(extra).toHaveLength(10_000)
    expect(Math.min(...extra)).toBeGreaterThanOrEqual(0)
    const mean = extra.reduce((x, y) => x + y, 0) / extra.length
    expect(mean).toBeGreaterThan(19) // 20 ± 5 standard errors (0.2 each)
    expect(mean).toBeLessThan(21)
    expect(Math.max(...extra)).toBeGreaterThan(100) // uniform jitter could never exceed 20
    expect(() => sim.network.setDefaults({ jitterDistribution: 'pareto' as never })).toThrow(/jitterDistribution must be 'uniform' or 'exponential'/)
  })

  it('loses about `loss` of the messages at a fixed seed, and counts every one', () => {
    const sim = new Simulator({ seed: 3, link: { loss: 0.1 } })
    const a = addRecorder(sim, 'a')
    const b = addRecorder(sim, 'b')
    for (let i = 0; i < 10_000; i++) a.current().ctx.transport.send('b', byte(i))
    sim.runFor(100)
    const got = b.current().messages.length
    expect(got).toBeGreaterThan(8850) // 9000 ± 5 standard deviations
    expect(got).toBeLessThan(9150)
    const s = sim.network.stats()
    expect(s.sent).toBe(10_000)
    expect(s.delivered + s.droppedLoss).toBe(10_000)
    expect(s.dropped).toBe(s.droppedLoss)
  })

  it('duplicates about `duplicate` of the messages', () => {
    const sim = new Simulator({ seed: 4, link: { duplicate: 0.2 } })
    const a = addRecorder(sim, 'a')
    const b = addRecorder(sim, 'b')
    for (let i = 0; i < 10_000; i++) a.current().ctx.transport.send('b', byte(i))
    sim.runFor(100)
    const got = b.current().messages.length
    expect(got).toBeGreaterThan(11_800)
    expect(got).toBeLessThan(12_200)
    expect(sim.network.stats().duplicated).toBe(got - 10_000)
  })

  it('keeps order on a fixed-latency link and reorders when told to', () => {
    const order = (reorder: number): number[] => {
      const sim = new Simulator({ seed: 5, link: { latencyMs: 10, reorder } })
      const a = addRecorder(sim, 'a')
      const b = addRecorder(sim, 'b')
      for (let i = 0; i < 100; i++) sim.schedule(sim.now() + i, () => a.current().ctx.transport.send('b', byte(i)))
      sim.runFor(1000)
      return b.current().messages.map(([, , v]) => v)
    }
    const inOrder = Array.from({ length: 100 }, (_, i) => i)
    expect(order(0)).toEqual(inOrder)
    const shuffled = order(0.3)
    expect(shuffled).not.toEqual(inOrder)
    expect([...shuffled].sort((x, y) => x - y)).toEqual(inOrder)
  })

  it('carries requests reliably (no loss) with latency both ways', () => {
    const sim = new Simulator({ seed: 6, link: { latencyMs: 30, loss: 1 } })
    const a = addRecorder(sim, 'a')
    const b = addRecorder(sim, 'b')
    const outcome: Array<[number, string | null]> = []
    a.current().ctx.transport.send('b', byte(1))
    a.current().ctx.transport.request('b', byte(9), 1000, (err, reply) => outcome.push([sim.elapsed(), err === null ? String(reply![0]) : err.reason]))
    sim.runFor(1000)
    expect(b.current().messages).toEqual([])
    expect(outcome).toEqual([[60, '9']])
  })

  it('refuses impossible link settings with a clear message', () => {
    expect(() => new Simulator({ seed: 1, link: { loss: 1.5 } })).toThrow(/loss must be a probability between 0 and 1/)
    const sim = new Simulator({ seed: 1 })
    addRecorder(sim, 'a')
    expect(() => sim.network.setDefaults({ latencyMs: -1 })).toThrow(InvalidOptionError)
    expect(() => sim.network.setDefaults({ jitterMs: Number.NaN })).toThrow(/jitterMs must be a finite number >= 0/)
    expect(() => sim.network.setLink('a', 'zz', { loss: 0 })).toThrow(/no host has the address zz/)
    expect(() => sim.network.setDefaults({ bogus: 1 } as never)).toThrow(/unknown link option 'bogus'/)
  })
})

describe('SimNetwork partitions', () => {
  function four (): { sim: Simulator, send: (from: string, to: string) => void, got: (at: string) => string[] } {
    const sim = new Simulator({ seed: 7 })
    const hosts = Object.fromEntries(['a', 'b', 'c', 'd'].map((h) => [h, addRecorder(sim, h)]))
    return {
      sim,
      send: (from, to) => hosts[from].current().ctx.transport.send(to, byte(0)),
      got: (at) => hosts[at].current().messages.map(([, from]) => from)
    }
  }

  it('blocks traffic between groups in both directions until healed', () => {
    const { sim, send, got } = four()
    sim.network.partition([['a', 'b'], ['c', 'd']])
    send('a', 'b'); send('a', 'c'); send('c', 'a'); send('c', 'd')
    sim.runFor(10)
    expect(got('b')).toEqual(['a'])
    expect(got('c')).toEqual([])
    expect(got('a')).toEqual([])
    expect(got('d')).toEqual(['c'])
    expect(sim.network.stats().droppedPartition).toBe(2)
    sim.network.heal()
    send('a', 'c'); send('c', 'a')
    sim.runFor(10)
    expect(got('c')).toEqual(['a'])
    expect(got('a')).toEqual(['c'])
  })

  it('puts hosts left out of a partition together in one more group', () => {
    const { sim, send, got } = four()
    sim.network.partition([['a'], ['b']])
    send('c', 'd'); send('c', 'a'); send('a', 'b')
    sim.runFor(10)
    expect(got('d')).toEqual(['c'])
    expect(got('a')).toEqual([])
    expect(got('b')).toEqual([])
  })

  it('blocks one direction only', () => {
    const { sim, send, got } = four()
    sim.network.block('a', 'b')
    send('a', 'b'); send('b', 'a')
    sim.runFor(10)
    expect(got('b')).toEqual([])
    expect(got('a')).toEqual(['b'])
    expect(sim.network.canReach('a', 'b')).toBe(false)
    expect(sim.network.canReach('b', 'a')).toBe(true)
    sim.network.unblock('a', 'b')
    send('a', 'b')
    sim.runFor(10)
    expect(got('b')).toEqual(['a'])
  })

  it('times out requests whose request or reply is blocked', () => {
    const sim = new Simulator({ seed: 8 })
    const a = addRecorder(sim, 'a')
    const b = addRecorder(sim, 'b')
    sim.network.block('a', 'b')
    const seen: string[] = []
    a.current().ctx.transport.request('b', byte(1), 100, (err) => seen.push('a->b ' + (err?.reason ?? 'ok')))
    b.current().ctx.transport.request('a', byte(1), 100, (err) => seen.push('b->a ' + (err?.reason ?? 'ok')))
    sim.runFor(200)
    expect(seen).toEqual(['a->b timeout', 'b->a timeout'])
  })

  it('lets a bridge host talk to both sides while the sides cannot talk to each other', () => {
    const { sim, send, got } = four()
    sim.network.partition([['a'], ['c']])
    sim.network.bridge('b')
    send('a', 'b'); send('c', 'b'); send('b', 'a'); send('b', 'c'); send('a', 'c')
    sim.runFor(10)
    expect(got('b').sort()).toEqual(['a', 'c'])
    expect(got('a')).toEqual(['b'])
    expect(got('c')).toEqual(['b'])
    sim.network.heal()
    send('a', 'c')
    sim.runFor(10)
    expect(got('c')).toEqual(['b', 'a'])
  })

  it('refuses a partition that lists a host twice or an unknown host', () => {
    const { sim } = four()
    expect(() => sim.network.partition([['a', 'b'], ['b']])).toThrow(/b is listed in more than one group/)
    expect(() => sim.network.partition([['a'], ['x']])).toThrow(/no host has the address x/)
  })
})

describe('host faults', () => {
  it('crash: stops the process, loses its timers and in-flight inbound messages; its sent messages still arrive', () => {
    const sim = new Simulator({ seed: 9, link: { latencyMs: 100 } })
    const a = addRecorder(sim, 'a')
    const b = addRecorder(sim, 'b')
    let fired = 0
    b.current().ctx.clock.setTimer(200, () => { fired++ })
    a.current().ctx.transport.send('b', byte(1))
    b.current().ctx.transport.send('a', byte(2))
    sim.runFor(50)
    sim.crash('b')
    expect(sim.isUp('b')).toBe(false)
    expect(b.current().stopped).toBe(true)
    a.current().ctx.transport.send('b', byte(3)) // to a down host
    sim.runFor(10)
    sim.restart('b')
    sim.runFor(1000)
    expect(fired).toBe(0)
    expect(b.all).toHaveLength(2)
    expect(b.all[0].messages).toEqual([])
    expect(b.all[1].messages).toEqual([]) // the message in flight at the crash went to the dead process
    expect(a.current().messages).toEqual([[100, 'b', 2]])
    expect(sim.network.stats().droppedDown).toBe(2)
  })

  it('crash: pending requests of the crashed process never call back; requests to it are refused', () => {
    const sim = new Simulator({ seed: 10, link: { latencyMs: 10 } })
    const a = addRecorder(sim, 'a')
    sim.addHost('silent', (ctx) => { ctx.transport.setHandlers({ onMessage () {}, onRequest () {} }); return { stop () {} } })
    const calls: string[] = []
    a.current().ctx.transport.request('silent', byte(1), 100, (err) => calls.push('a ' + (err?.reason ?? 'ok')))
    sim.runFor(20)
    sim.crash('a')
    sim.runFor(500)
    expect(calls).toEqual([])
    sim.restart('a')
    const b = addRecorder(sim, 'b')
    sim.crash('silent')
    b.current().ctx.transport.request('silent', byte(1), 1000, (err) => calls.push('b ' + (err?.reason ?? 'ok') + ' at ' + sim.elapsed()))
    sim.runFor(2000)
    expect(calls).toEqual(['b unreachable at 540'])
  })

  it('restart: a fresh process with a fresh transport, clock and random stream; the old transport is dead', () => {
    const sim = new Simulator({ seed: 11 })
    const a = addRecorder(sim, 'a')
    const b = addRecorder(sim, 'b')
    const first = b.current().ctx
    const firstDraw = first.random.uint32()
    sim.restart('b')
    const second = b.current().ctx
    expect(b.all).toHaveLength(2)
    expect(b.all[0].stopped).toBe(true)
    expect(second.restarts).toBe(1)
    expect(sim.restarts('b')).toBe(1)
    expect(second.transport).not.toBe(first.transport)
    expect(second.random.uint32()).not.toBe(firstDraw)
    first.transport.send('a', byte(1))
    second.transport.send('a', byte(2))
    a.current().ctx.transport.send('b', byte(3))
    sim.runFor(10)
    expect(a.current().messages.map(([, , v]) => v)).toEqual([2])
    expect(b.current().messages.map(([, , v]) => v)).toEqual([3])
  })

  it('pause: timers and deliveries wait, then run late and in their original order', () => {
    const sim = new Simulator({ seed: 12, link: { latencyMs: 150 } })
    const a = addRecorder(sim, 'a')
    const log: string[] = []
    sim.addHost('b', (ctx) => {
      ctx.transport.setHandlers({ onMessage (_from, p) { log.push(`msg${p[0]}@${sim.elapsed()}`) }, onRequest () {} })
      ctx.clock.setTimer(100, () => log.push(`timer100@${sim.elapsed()}`))
      ctx.clock.setTimer(200, () => log.push(`timer200@${sim.elapsed()}`))
      ctx.clock.setTimer(500, () => log.push(`timer500@${sim.elapsed()}`))
      return { stop () {} }
    })
    a.current().ctx.transport.send('b', byte(1)) // arrives at 150
    sim.schedule(sim.now() + 100, () => a.current().ctx.transport.send('b', byte(2))) // arrives at 250
    sim.schedule(sim.now() + 50, () => sim.pause('b', 300))
    sim.runFor(349)
    expect(log).toEqual([])
    expect(sim.isPaused('b')).toBe(true)
    sim.runFor(1000)
    expect(log).toEqual(['timer100@350', 'msg1@350', 'timer200@350', 'msg2@350', 'timer500@500'])
    expect(sim.isPaused('b')).toBe(false)
  })

  it('pause: a paused requester sees the reply that arrived first, even though its timeout is also overdue', () => {
    const sim = new Simulator({ seed: 13, link: { latencyMs: 10 } })
    const a = addRecorder(sim, 'a')
    addRecorder(sim, 'b')
    const seen: string[] = []
    a.current().ctx.transport.request('b', byte(4), 100, (err, reply) => seen.push(`${err?.reason ?? reply![0]}@${sim.elapsed()}`))
    sim.pause('a', 500)
    sim.runFor(1000)
    expect(seen).toEqual(['4@500'])
  })

  it('pause: a paused responder makes the requester time out; its late reply is dropped and counted', () => {
    const sim = new Simulator({ seed: 14, link: { latencyMs: 10 } })
    const a = addRecorder(sim, 'a')
    addRecorder(sim, 'b')
    sim.pause('b', 500)
    const seen: string[] = []
    a.current().ctx.transport.request('b', byte(4), 100, (err, reply) => seen.push(`${err?.reason ?? reply![0]}@${sim.elapsed()}`))
    sim.runFor(1000)
    expect(seen).toEqual(['timeout@100'])
    expect(sim.network.stats().lateReplies).toBe(1)
  })

  it('pause: best-effort messages queue up to the paused inbox limit; the rest are dropped and counted', () => {
    const sim = new Simulator({ seed: 15, pausedInboxLimit: 3 })
    const a = addRecorder(sim, 'a')
    const b = addRecorder(sim, 'b')
    sim.pause('b', 100)
    for (let i = 0; i < 5; i++) a.current().ctx.transport.send('b', byte(i))
    sim.runFor(200)
    expect(b.current().messages).toEqual([[100, 'a', 0], [100, 'a', 1], [100, 'a', 2]])
    expect(sim.network.stats().droppedOverflow).toBe(2)
    expect(sim.network.hostStats('b').inboxOverflow).toBe(2)
  })

  it('pause: a longer pause extends a shorter one; a crash ends a pause and voids its backlog', () => {
    const sim = new Simulator({ seed: 16 })
    const a = addRecorder(sim, 'a')
    const b = addRecorder(sim, 'b')
    sim.pause('b', 100)
    sim.pause('b', 300)
    a.current().ctx.transport.send('b', byte(1))
    sim.runFor(200)
    expect(b.current().messages).toEqual([])
    sim.runFor(200)
    expect(b.current().messages).toEqual([[300, 'a', 1]])
    sim.pause('b', 100)
    a.current().ctx.transport.send('b', byte(2))
    sim.runFor(10)
    sim.crash('b')
    sim.restart('b')
    sim.runFor(500)
    expect(b.all[0].messages).toEqual([[300, 'a', 1]])
    expect(b.current().messages).toEqual([])
  })

  it('clock skew shows in clock.now() but not in timer delays, and survives restarts', () => {
    const sim = new Simulator({ seed: 17, startMs: 1_000_000 })
    const a = addRecorder(sim, 'a')
    sim.setClockSkew('a', 250)
    expect(a.current().ctx.clock.now()).toBe(1_000_250)
    let firedAt = -1
    a.current().ctx.clock.setTimer(100, () => { firedAt = sim.now() })
    sim.runFor(200)
    expect(firedAt).toBe(1_000_100)
    sim.setClockSkew('a', -100)
    expect(a.current().ctx.clock.now()).toBe(sim.now() - 100)
    sim.restart('a')
    expect(a.current().ctx.clock.now()).toBe(sim.now() - 100)
  })

  it('does not fire a cleared timer', () => {
    const sim = new Simulator({ seed: 18 })
    const a = addRecorder(sim, 'a')
    let fired = 0
    const h = a.current().ctx.clock.setTimer(10, () => { fired++ })
    a.current().ctx.clock.clearTimer(h)
    sim.runFor(100)
    expect(fired).toBe(0)
  })
})

describe('Simulator basics', () => {
  it('runs sim-level events in time order, step() by step()', () => {
    const sim = new Simulator({ seed: 19 })
    const seen: number[] = []
    sim.schedule(sim.now() + 20, () => seen.push(2))
    sim.schedule(sim.now() + 10, () => seen.push(1))
    sim.after(20, () => seen.push(3))
    expect(sim.step()).toBe(true)
    expect(seen).toEqual([1])
    expect(sim.elapsed()).toBe(10)
    expect(sim.step()).toBe(true)
    expect(sim.step()).toBe(true)
    expect(seen).toEqual([1, 2, 3])
    expect(sim.step()).toBe(false)
    sim.runUntil(sim.startMs + 1000)
    expect(sim.elapsed()).toBe(1000)
  })

  it('runs a periodic sampler until it is stopped', () => {
    const sim = new Simulator({ seed: 24, startMs: 0 })
    const at: number[] = []
    const stop = sim.every(250, () => { at.push(sim.now()); if (at.length === 3) stop() })
    sim.runFor(2000)
    expect(at).toEqual([250, 500, 750])
    expect(() => sim.every(0, () => {})).toThrow(/intervalMs must be a finite number > 0/)
  })

  it('records faults in the trace with their virtual time', () => {
    const sim = new Simulator({ seed: 20, trace: true, startMs: 0 })
    addRecorder(sim, 'a')
    addRecorder(sim, 'b')
    sim.runFor(5)
    sim.crash('a')
    sim.network.partition([['a'], ['b']])
    sim.pause('b', 10)
    sim.runFor(20)
    expect(sim.trace.lines()).toEqual([
      '0 sim-start',
      '0 add-host host=a',
      '0 add-host host=b',
      '5 crash host=a',
      '5 partition groups=a|b',
      '5 pause host=b ms=10',
      '15 resume host=b late=0'
    ])
  })

  it('refuses bad options with messages that say how to fix them', () => {
    expect(() => new Simulator({ seed: -1 })).toThrow(/seed must be an integer between 0 and 4294967295/)
    expect(() => new Simulator({ seed: 1.5 })).toThrow(InvalidOptionError)
    expect(() => new Simulator({ seed: 2 ** 32 })).toThrow(InvalidOptionError)
    expect(() => new Simulator({ seed: 1, trace: -3 })).toThrow(/trace must be an integer >= 0/)
    expect(() => new Simulator({ seed: 1, maxDatagramBytes: 0 })).toThrow(/maxDatagramBytes must be an integer >= 1/)
    const sim = new Simulator({ seed: 1 })
    addRecorder(sim, 'a')
    expect(() => addRecorder(sim, 'a')).toThrow(/already exists/)
    expect(() => sim.crash('nope')).toThrow(/no host has the address nope/)
    expect(() => sim.pause('a', 0)).toThrow(/ms must be a finite number > 0/)
    expect(() => sim.schedule(sim.now() - 1, () => {})).toThrow(/atMs must be >= now/)
    expect(() => sim.setClockSkew('a', Infinity)).toThrow(InvalidOptionError)
  })

  it('refuses to run the loop from inside an event', () => {
    const sim = new Simulator({ seed: 21 })
    sim.after(1, () => sim.runFor(1))
    expect(() => sim.runFor(10)).toThrow(/from inside an event/)
  })

  it('rejects a non-positive request timeout and an over-size request', () => {
    const sim = new Simulator({ seed: 22, maxRequestBytes: 8 })
    const a = addRecorder(sim, 'a')
    addRecorder(sim, 'b')
    const t = a.current().ctx.transport
    expect(() => t.request('b', byte(1), 0, () => {})).toThrow(/timeoutMs must be a finite number > 0/)
    const seen: Array<TransportError | null> = []
    t.request('b', new Uint8Array(9), 100, (err) => seen.push(err))
    sim.runFor(10)
    expect(seen.map((e) => e?.reason)).toEqual(['too-large'])
  })
})
