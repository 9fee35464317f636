import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../../src/errors.js'
import { runReplicationScenario } from '../../../src/sim/scenarios/replication.js'

const small = { peers: 8, clients: 8, keys: 60, warmupSeconds: 10, durationSeconds: 30, quietSeconds: 30 }

describe('replication scenario', () => {
  it('sync under partitions, crashes and joins: no acknowledged write lost, replicas converge after the heal', () => {
    const faults: Record<string, number> = {}
    for (const seed of [1, 2, 3, 4]) {
      const { report } = runReplicationScenario({ ...small, seed, mode: 'sync', nemesis: ['partition', 'crash', 'join'], joiners: 2, fetchStorm: false })
      for (const [k, v] of Object.entries(report.faults)) faults[k] = (faults[k] ?? 0) + v
      expect(report.ok, `seed ${seed}`).toBeGreaterThan(500)
      expect(report.finalReadFailures, `seed ${seed}`).toBe(0)
      expect(report.lostAckedWrites, `seed ${seed}: ${JSON.stringify(report.lostExamples)}`).toBe(0)
      expect(report.divergentKeysAtEnd, `seed ${seed}: ${JSON.stringify(report.divergentExamples)}`).toBe(0)
      expect(report.convergedAfterHealMs, `seed ${seed}`).toBeGreaterThanOrEqual(0)
      expect(report.convergedAfterHealMs, `seed ${seed}`).toBeLessThanOrEqual(30_000)
    }
    // the seeds above do exercise every fault kind
    expect(faults.partition).toBeGreaterThan(0)
    expect(faults.crash).toBeGreaterThan(0)
    expect(faults.join).toBe(8)
  })

  it('async with leaves and pauses converges after the heal', () => {
    const { report } = runReplicationScenario({ ...small, seed: 4, mode: 'async', nemesis: ['partition', 'leave', 'pause'], leavers: 1, fetchStorm: false })
    expect(report.leavers).toBe(1)
    expect(report.divergentKeysAtEnd, JSON.stringify(report.divergentExamples)).toBe(0)
    expect(report.convergedAfterHealMs).toBeGreaterThanOrEqual(0)
    expect(report.convergedAfterHealMs).toBeLessThanOrEqual(30_000)
  })

  it('joins move about joiners / peers of the copies, and the fetch storm calls each loader once', () => {
    const { report } = runReplicationScenario({ ...small, keys: 300, seed: 5, nemesis: ['join'], joiners: 2, fetchStorm: { clients: 40, keys: 20 } })
    expect(report.lostAckedWrites).toBe(0)
    expect(report.idealMovedFraction).toBe(0.2)
    expect(report.keysMovedFraction!).toBeGreaterThan(0.15)
    expect(report.keysMovedFraction!).toBeLessThan(0.25)
    expect(report.loaderCalls).toBe(20)
    expect(report.fetchCalls).toBe(800)
    expect(report.fetchMisses!).toBeGreaterThanOrEqual(20)
  })

  it('is deterministic: the same seed gives the same trace hash and history', () => {
    const a = runReplicationScenario({ ...small, durationSeconds: 15, quietSeconds: 5, seed: 9, nemesis: ['crash', 'partition'], fetchStorm: false, history: true })
    const b = runReplicationScenario({ ...small, durationSeconds: 15, quietSeconds: 5, seed: 9, nemesis: ['crash', 'partition'], fetchStorm: false, history: true })
    expect(a.report.traceHash).toBe(b.report.traceHash)
    expect(a.history.toJsonLines()).toBe(b.history.toJsonLines())
    const c = runReplicationScenario({ ...small, durationSeconds: 15, quietSeconds: 5, seed: 10, nemesis: ['crash', 'partition'], fetchStorm: false })
    expect(c.report.traceHash).not.toBe(a.report.traceHash)
  })

  it('writes a Jepsen history: every invoke is completed once by the same process, values as documented', () => {
    const { history, report } = runReplicationScenario({ ...small, durationSeconds: 15, quietSeconds: 5, seed: 11, nemesis: ['crash'], fetchStorm: false, history: true })
    const lines = history.toJsonLines().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(Object.keys(lines[0])).toEqual(['index', 'time', 'process', 'type', 'f', 'ns', 'key', 'value'])
    const open = new Map<unknown, Record<string, unknown>>()
    let completions = 0
    let lastTime = -1
    for (const [i, e] of lines.entries()) {
      expect(e.index).toBe(i)
      expect(e.time as number).toBeGreaterThanOrEqual(lastTime)
      lastTime = e.time as number
      if (e.process === 'nemesis') continue
      if (e.type === 'invoke') {
        expect(open.has(e.process), `process ${String(e.process)} invoked twice`).toBe(false)
        open.set(e.process, e)
      } else {
        const inv = open.get(e.process)
        expect(inv, `completion without invoke at ${i}`).toBeDefined()
        expect(e.f).toBe(inv!.f)
        expect(e.key).toBe(inv!.key)
        if (e.f === 'set') expect(e.value).toBe(inv!.value)
        if (e.f === 'delete') expect(e.value).toBeNull()
        if (e.f === 'incr' && e.type === 'ok') expect(typeof e.value).toBe('number')
        open.delete(e.process)
        completions++
      }
    }
    expect(completions).toBe(report.ops)
    expect(lines.some((e) => e.process === 'nemesis' && e.f === 'crash')).toBe(true)
  })

  it('refuses impossible options', () => {
    expect(() => runReplicationScenario({ peers: 0 })).toThrow(InvalidOptionError)
    expect(() => runReplicationScenario({ nemesis: ['flood' as 'crash'] })).toThrow(/unknown nemesis "flood"/)
    expect(() => runReplicationScenario({ mode: 'strong' as 'sync' })).toThrow(/async or sync/)
    expect(() => runReplicationScenario({ warmupSeconds: 1 })).toThrow(/at least 5/)
  })
})
