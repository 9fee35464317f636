import { describe, expect, it } from 'vitest'
import { runSyntheticLoad } from '../../src/sim/index.js'

describe('synthetic load (kernel sanity, small scale)', () => {
  it('runs one timer and one message per host per interval, all delivered, reproducibly', () => {
    const r = runSyntheticLoad({ hosts: 50, durationMs: 10_000, intervalMs: 100, payloadBytes: 100 })
    // each host ticks 100 times in 10 s (its first tick falls within the first interval)
    expect(r.stats.sent).toBeGreaterThanOrEqual(50 * 99)
    expect(r.stats.sent).toBeLessThanOrEqual(50 * 100)
    expect(r.received).toBe(r.stats.delivered)
    expect(r.stats.sent - r.stats.delivered).toBeLessThanOrEqual(50) // only the last tick's messages in flight
    expect(r.events).toBe(r.stats.sent + r.stats.delivered)
    expect(r.stats.maxPayloadBytes).toBe(100)
    expect(runSyntheticLoad({ hosts: 50, durationMs: 10_000 }).traceHash).toBe(r.traceHash)
  })
})
