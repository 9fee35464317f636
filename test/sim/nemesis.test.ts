import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../src/errors.js'
import { SeededRandom } from '../../src/env/random.js'
import { Simulator, describeEvent, planRandomNemesis, randomNemesis, scripted } from '../../src/sim/index.js'
import type { NemesisEvent } from '../../src/sim/index.js'
import { addRecorder } from './helpers.js'

const hosts = Array.from({ length: 9 }, (_, i) => `p${i}`)

function simWith (n: number, seed = 1): Simulator {
  const sim = new Simulator({ seed, trace: true, startMs: 0 })
  for (let i = 0; i < n; i++) addRecorder(sim, `p${i}`)
  return sim
}

describe('scripted nemesis', () => {
  it('applies each event at its time and records it in the trace and the log', () => {
    const sim = simWith(3)
    const seen: string[] = []
    const nemesis = scripted(sim, [
      { atMs: 300, type: 'heal' },
      { atMs: 100, type: 'crash', host: 'p0' },
      { atMs: 100, type: 'partition', groups: [['p1'], ['p2']] },
      { atMs: 200, type: 'restart', host: 'p0' },
      { atMs: 250, type: 'pause', host: 'p1', durationMs: 20 },
      { atMs: 260, type: 'crash', host: 'p0' },
      { atMs: 270, type: 'crash', host: 'p0' },
      { atMs: 280, type: 'skew', host: 'p2', skewMs: -40 },
      { atMs: 290, type: 'link', options: { latencyMs: 5 } },
      { atMs: 295, type: 'mark', label: 'liveness' }
    ], { onEvent: (e) => seen.push(`${e.atMs} ${describeEvent(e.event)}${e.applied ? '' : ' (no-op)'}`) })
    sim.runFor(150)
    expect(sim.isUp('p0')).toBe(false)
    expect(sim.network.canReach('p1', 'p2')).toBe(false)
    sim.runFor(1000)
    expect(seen).toEqual([
      '100 crash p0',
      '100 partition p1 | p2',
      '200 restart p0',
      '250 pause p1 for 20 ms',
      '260 crash p0',
      '270 crash p0 (no-op)',
      '280 skew p2\'s clock by -40 ms',
      '290 link * -> * {"latencyMs":5}',
      '295 mark liveness',
      '300 heal the network'
    ])
    expect(nemesis.log).toHaveLength(10)
    expect(sim.network.canReach('p1', 'p2')).toBe(true)
    expect(sim.network.defaults.latencyMs).toBe(5)
    const lines = sim.trace.lines().filter((l) => l.includes(' nemesis '))
    expect(lines[0]).toBe('100 nemesis type=crash host=p0 applied=true')
    expect(lines[5]).toBe('270 nemesis type=crash host=p0 applied=false')
    expect(lines).toHaveLength(10)
  })

  it('refuses malformed events', () => {
    const sim = simWith(2)
    expect(() => scripted(sim, [{ atMs: -1, type: 'heal' }])).toThrow(/atMs must be a finite number >= 0/)
    expect(() => scripted(sim, [{ atMs: 1, type: 'pause', host: 'p0', durationMs: 0 }])).toThrow(/durationMs must be a finite number > 0/)
    expect(() => scripted(sim, [{ atMs: 1, type: 'explode' } as unknown as NemesisEvent])).toThrow(/unknown event type 'explode'/)
    sim.runFor(100)
    expect(() => scripted(sim, [{ atMs: 50, type: 'heal' }])).toThrow(/is in the past/)
  })
})

describe('random nemesis', () => {
  const busy = { endMs: 120_000, crashesPerMinute: 30, pausesPerMinute: 10, partitionsPerMinute: 4, blocksPerMinute: 4, skewsPerMinute: 4, restartAfterMs: 8_000 }

  it('plans the same schedule from the same seed and another from another seed', () => {
    const a = planRandomNemesis(hosts, new SeededRandom(5), busy)
    expect(planRandomNemesis(hosts, new SeededRandom(5), busy)).toEqual(a)
    expect(planRandomNemesis(hosts, new SeededRandom(6), busy)).not.toEqual(a)
    const types = new Set(a.map((e) => e.type))
    for (const t of ['crash', 'restart', 'pause', 'partition', 'heal', 'block', 'skew', 'mark']) expect(types).toContain(t)
  })

  it('never has more than maxCrashed hosts down, never crashes a down host, and repairs everything at the end', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const plan = planRandomNemesis(hosts, new SeededRandom(seed), { ...busy, maxCrashed: 2 })
      const down = new Set<string>()
      let maxDown = 0
      let partitioned = false
      for (const e of plan) {
        expect(e.atMs).toBeLessThanOrEqual(busy.endMs)
        if (e.type === 'crash') { expect(down.has(e.host)).toBe(false); down.add(e.host) }
        if (e.type === 'restart') { expect(down.has(e.host)).toBe(true); down.delete(e.host) }
        if (e.type === 'pause') expect(down.has(e.host)).toBe(false)
        if (e.type === 'partition') { expect(partitioned).toBe(false); partitioned = true }
        if (e.type === 'heal') partitioned = false
        maxDown = Math.max(maxDown, down.size)
      }
      expect(maxDown).toBeLessThanOrEqual(2)
      expect(down.size).toBe(0)
      expect(partitioned).toBe(false)
      const last = plan[plan.length - 1]
      expect(last).toEqual({ atMs: busy.endMs, type: 'mark', label: 'liveness' })
    }
  })

  it('applies a planned schedule: after the end every host is up and the network is whole', () => {
    const sim = simWith(9, 42)
    const nemesis = randomNemesis(sim, busy)
    sim.runFor(busy.endMs + 1)
    expect(nemesis.log.filter((e) => e.event.type === 'crash' && e.applied).length).toBeGreaterThan(10)
    for (const h of hosts) expect(sim.isUp(h)).toBe(true)
    for (const a of hosts) for (const b of hosts) expect(sim.network.canReach(a, b)).toBe(true)
    expect(sim.trace.lines().filter((l) => l.includes(' nemesis ')).length).toBe(nemesis.log.length)
  })

  it('refuses impossible plans', () => {
    expect(() => planRandomNemesis([], new SeededRandom(1))).toThrow(/no hosts/)
    expect(() => planRandomNemesis(hosts, new SeededRandom(1), { startMs: 10, endMs: 5 })).toThrow(/endMs \(5\) must be >= startMs \(10\)/)
    expect(() => planRandomNemesis(hosts, new SeededRandom(1), { crashesPerMinute: -1 })).toThrow(InvalidOptionError)
    expect(() => planRandomNemesis(hosts, new SeededRandom(1), { maxCrashed: 1.5 })).toThrow(/maxCrashed must be an integer/)
  })
})
