import { describe, expect, it } from 'vitest'
import {
  deadProbeIntervalMs, healthMultiplier, indirectProbeDelayMs, lagHealthDelta, lateTimerGraceMs, probeHealthDelta,
  probeOffset, probeRound, probeTimeoutMs, pushPullCascades, pushPullIntervalMs, relayNackTimeoutMs, retransmitLimit,
  scaleByHealth, suspicionConfirmationsWanted, suspicionMaxMs, suspicionMinMs, suspicionRemainingMs, suspicionTimeoutMs
} from '../../src/membership/math.js'

describe('retransmitLimit = mult * ceil(log10(n + 1))', () => {
  it.each([
    [4, 1, 4], [4, 9, 4], [4, 10, 8], [4, 99, 8], [4, 100, 12], [4, 999, 12], [4, 1000, 16], [3, 10_000, 15], [4, 0, 4]
  ])('mult %i, n %i -> %i', (mult, n, limit) => {
    expect(retransmitLimit(mult, n)).toBe(limit)
  })
})

describe('suspicion timeouts', () => {
  it.each([
    // mult, n, interval, min
    [2, 1, 1000, 2000], [2, 10, 1000, 2000], [2, 100, 1000, 4000], [2, 1000, 1000, 6000], [3, 1000, 200, 1800], [4, 10_000, 1000, 16_000]
  ])('min: mult %i, n %i, interval %i ms -> %i ms', (mult, n, interval, min) => {
    expect(suspicionMinMs(mult, n, interval)).toBe(min)
  })

  it('min never falls below the floor, whatever the mesh size', () => {
    expect(suspicionMinMs(2, 24, 1000, 6000)).toBe(6000)
    expect(suspicionMinMs(2, 100_000, 1000, 6000)).toBe(10_000)
  })

  it('max is min times the max multiplier', () => {
    expect(suspicionMaxMs(6000, 6)).toBe(36_000)
  })

  it.each([
    // confirmations, wanted, expected total timeout (min 6000, max 36000)
    [0, 3, 36_000], [1, 3, 21_000], [2, 3, 12_225], [3, 3, 6000], [7, 3, 6000], [0, 0, 6000], [5, 0, 6000], [0, 1, 36_000], [1, 1, 6000]
  ])('dynamic: %i of %i confirmations -> %i ms', (c, k, total) => {
    expect(suspicionTimeoutMs(c, k, 6000, 36_000)).toBe(total)
  })

  it('falls monotonically from max to min as confirmations arrive', () => {
    let previous = Infinity
    for (let c = 0; c <= 5; c++) {
      const t = suspicionTimeoutMs(c, 5, 1000, 10_000)
      expect(t).toBeLessThanOrEqual(previous)
      expect(t).toBeGreaterThanOrEqual(1000)
      previous = t
    }
    expect(previous).toBe(1000)
  })

  it('remaining time subtracts what has elapsed and may be negative', () => {
    expect(suspicionRemainingMs(0, 3, 6000, 36_000, 10_000)).toBe(26_000)
    expect(suspicionRemainingMs(3, 3, 6000, 36_000, 7000)).toBe(-1000)
  })

  it.each([[3, 100, 3], [3, 4, 2], [3, 2, 0], [3, 1, 0], [0, 100, 0]])('confirmations wanted: k %i with %i members -> %i', (k, n, wanted) => {
    expect(suspicionConfirmationsWanted(k, n)).toBe(wanted)
  })
})

describe('local health (Lifeguard)', () => {
  it.each([[0, 1], [1, 2], [7, 8]])('score %i stretches %i times', (score, m) => {
    expect(healthMultiplier(score)).toBe(m)
    expect(scaleByHealth(1000, score)).toBe(1000 * m)
    expect(probeTimeoutMs(500, score)).toBe(500 * m)
  })

  it.each([
    // acked, expected nacks, nacks received, delta
    [true, 3, 0, -1], [false, 0, 0, 1], [false, 3, 0, 3], [false, 3, 1, 0], [false, 3, 3, 0], [false, 2, 0, 2]
  ])('probe health: acked %s, %i nacks expected, %i received -> %i', (acked, expected, got, delta) => {
    expect(probeHealthDelta(acked, expected, got)).toBe(delta)
  })

  it.each([
    // lag, threshold, interval, max score, delta
    [0, 125, 1000, 7, 0], [100, 125, 1000, 7, 0], [125, 125, 1000, 7, 1], [999, 125, 1000, 7, 1], [1001, 125, 1000, 7, 2],
    [4500, 125, 1000, 7, 5], [60_000, 125, 1000, 7, 7], [Number.NaN, 125, 1000, 7, 0]
  ])('event-loop lag %i ms (threshold %i, interval %i, max %i) -> +%i', (lag, threshold, interval, max, delta) => {
    expect(lagHealthDelta(lag, threshold, interval, max)).toBe(delta)
  })

  it.each([[0, 125, 500, 0], [100, 125, 500, 0], [200, 125, 500, 200], [4000, 125, 500, 500], [4000, 125, 1000, 1000]])(
    'a timer %i ms late (threshold %i, cap %i) waits %i ms more', (late, threshold, cap, grace) => {
      expect(lateTimerGraceMs(late, threshold, cap)).toBe(grace)
    })
})

describe('probe timing', () => {
  it('relays nack within 80 % of the time left; ping-req waits a quarter of the indirect window for the fallback', () => {
    expect(relayNackTimeoutMs(500)).toBe(400)
    expect(relayNackTimeoutMs(375)).toBe(300)
    expect(relayNackTimeoutMs(0)).toBe(1)
    expect(indirectProbeDelayMs(1000, 500)).toBe(125)
    expect(indirectProbeDelayMs(5000, 3000)).toBe(500)
  })

  it.each([[0, 0, 1000, 0], [999, 0, 1000, 0], [1000, 0, 1000, 1], [1250, 300, 1000, 0], [1300, 300, 1000, 1], [-1, 0, 1000, -1]])(
    'round at %i ms (phase %i, interval %i) is %i', (now, phase, interval, round) => {
      expect(probeRound(now, phase, interval)).toBe(round)
    })

  it.each([[0, 5, 1], [3, 5, 4], [4, 5, 1], [7, 5, 4], [-1, 5, 4], [10, 1, 0], [10, 2, 1]])('offset in round %i with %i members is %i', (round, n, offset) => {
    expect(probeOffset(round, n)).toBe(offset)
  })
})

describe('push-pull scaling', () => {
  it.each([[30_000, 10, 30_000], [30_000, 32, 30_000], [30_000, 33, 60_000], [30_000, 64, 60_000], [30_000, 1000, 180_000]])(
    'base %i ms with %i members -> %i ms', (base, n, interval) => {
      expect(pushPullIntervalMs(base, n)).toBe(interval)
      expect(deadProbeIntervalMs(base, n)).toBe(interval)
    })

  it.each([[3, 10, false], [4, 10, true], [124, 1000, false], [125, 1000, true]])('%i changes among %i members cascade: %s', (changes, n, yes) => {
    expect(pushPullCascades(changes, n)).toBe(yes)
  })
})
