import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../../src/errors.js'
import { peerAddress, runMembershipScenario } from '../../../src/sim/scenarios/membership.js'

describe('membership scenario', () => {
  it('detects every crash, marks it dead everywhere, and declares no live peer dead', () => {
    const { report } = runMembershipScenario({ peers: 40, seed: 11, crash: 3, loss: 0.01, durationSeconds: 90, warmupSeconds: 30 })
    expect(report.detection.samples).toBe(3)
    expect(report.deadEverywhere.samples).toBe(3)
    expect(report.deadEverywhere.incomplete).toBe(0)
    expect(report.falsePositives).toBe(0)
    expect(report.finalView).toEqual({ live: 37, distinctChecksums: 1, everyoneSeesEveryone: true })
    expect(report.maxMessageBytes).toBeLessThanOrEqual(1400)
    expect(report.messagesPerMemberPerPeriod).toBeGreaterThan(1)
  })

  it('reports progress every 10 virtual seconds without changing the run', () => {
    const seen: Array<[number, string]> = []
    const init = { peers: 20, seed: 8, crash: 1, loss: 0.01, durationSeconds: 25, warmupSeconds: 12 }
    const withProgress = runMembershipScenario({ ...init, onProgress: (p) => { seen.push([p.virtualSeconds, p.phase]); expect(p.totalVirtualSeconds).toBe(37) } }).report
    const without = runMembershipScenario(init).report
    expect(seen).toEqual([[10, 'warm-up'], [12, 'warm-up'], [22, 'measured'], [32, 'measured'], [37, 'measured']])
    expect(withProgress.traceHash).toBe(without.traceHash)
    expect(withProgress.simEvents).toBe(without.simEvents)
  })

  it('replays a seed exactly and differs under another seed', () => {
    const a = runMembershipScenario({ peers: 20, seed: 5, crash: 1, pause: 2, loss: 0.02, durationSeconds: 60, warmupSeconds: 20 }).report
    const b = runMembershipScenario({ peers: 20, seed: 5, crash: 1, pause: 2, loss: 0.02, durationSeconds: 60, warmupSeconds: 20 }).report
    const c = runMembershipScenario({ peers: 20, seed: 6, crash: 1, pause: 2, loss: 0.02, durationSeconds: 60, warmupSeconds: 20 }).report
    expect(b.traceHash).toBe(a.traceHash)
    expect(b.simEvents).toBe(a.simEvents)
    expect(c.traceHash).not.toBe(a.traceHash)
  })

  it('settles a mass join by gossip and periodic exchanges, without cascades of full-state exchanges', () => {
    // 300 peers join through one seed in 6 s: every periodic exchange meanwhile finds many members it had
    // never heard of, which must not set off push-pulls every period at every peer (O(n) each)
    const { report } = runMembershipScenario({ peers: 300, seed: 4, durationSeconds: 30, warmupSeconds: 30 })
    expect(report.finalView).toEqual({ live: 300, distinctChecksums: 1, everyoneSeesEveryone: true })
    expect(report.protocol.pushPullCascades).toBe(0)
    expect(report.protocol.pushPulls).toBeLessThan(3 * 300)
  })

  it('merges the views again after a 50/50 partition heals', () => {
    const { report, svg } = runMembershipScenario({
      peers: 30, seed: 3, durationSeconds: 120, warmupSeconds: 20, partition: { atSeconds: 10, healSeconds: 50 }, timeline: true
    })
    expect(report.partitionDeaths).toBeGreaterThan(0)
    expect(report.convergedAfterHealMs).not.toBeNull()
    expect(report.convergedAfterHealMs!).toBeGreaterThanOrEqual(0)
    expect(report.finalView.distinctChecksums).toBe(1)
    // the heal changes many members both sides already knew: full-state exchanges cascade
    expect(report.protocol.pushPullCascades).toBeGreaterThan(0)
    expect(svg).toMatch(/^<svg/)
    expect(svg).toContain('side A')
  })

  it('refuses impossible options with a message that says what to change', () => {
    expect(() => runMembershipScenario({ peers: 0 })).toThrow(InvalidOptionError)
    expect(() => runMembershipScenario({ loss: 2 })).toThrow(/loss must be a probability/)
    expect(() => runMembershipScenario({ peers: 5, crash: 5 })).toThrow(/at least one healthy peer/)
    expect(() => runMembershipScenario({ durationSeconds: 100, partition: { atSeconds: 50, healSeconds: 40 } })).toThrow(/heal after it starts/)
  })

  it('names peers with a fixed width', () => {
    expect(peerAddress(7, 100)).toBe('p0007')
    expect(peerAddress(7, 20000)).toBe('p00007')
  })
})
