import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/env/clock.js'
import {
  compareTimestamps, compareVersions, Hlc, InvalidVersionError, isValidTimestamp, MAX_LOGICAL, tickLocal, tickReceive,
  type HlcTimestamp
} from '../../src/storage/hlc.js'

const ts = (physical: number, logical: number): HlcTimestamp => ({ physical, logical })

describe('tickLocal (send / local event)', () => {
  it.each([
    ['wall clock ahead: take it, logical 0', ts(100, 5), 200, ts(200, 0)],
    ['wall clock equal: count', ts(100, 5), 100, ts(100, 6)],
    ['wall clock behind (went backwards): keep physical, count', ts(100, 5), 50, ts(100, 6)],
    ['fractional wall clock is floored', ts(100, 0), 100.9, ts(100, 1)],
    ['logical overflow carries into physical', ts(100, MAX_LOGICAL), 100, ts(101, 0)]
  ])('%s', (_name, last, wall, expected) => {
    expect(tickLocal(last, wall)).toEqual(expected)
  })
})

describe('tickReceive (receive event)', () => {
  it.each([
    ['wall clock ahead of both', ts(100, 3), ts(90, 7), 200, ts(200, 0)],
    ['remote ahead of local and wall clock', ts(100, 3), ts(150, 7), 120, ts(150, 8)],
    ['local ahead of remote and wall clock', ts(150, 3), ts(100, 7), 120, ts(150, 4)],
    ['local and remote tie ahead of wall clock: max counter + 1', ts(150, 3), ts(150, 7), 120, ts(150, 8)],
    ['local and remote tie, local counter larger', ts(150, 9), ts(150, 7), 120, ts(150, 10)],
    ['all three equal', ts(150, 2), ts(150, 2), 150, ts(150, 3)],
    ['overflow carries', ts(150, MAX_LOGICAL), ts(150, 1), 100, ts(151, 0)]
  ])('%s', (_name, last, remote, wall, expected) => {
    expect(tickReceive(last, remote, wall)).toEqual(expected)
  })
})

describe('compare', () => {
  it('orders timestamps by physical, then logical', () => {
    expect(compareTimestamps(ts(1, 9), ts(2, 0))).toBeLessThan(0)
    expect(compareTimestamps(ts(2, 1), ts(2, 0))).toBeGreaterThan(0)
    expect(compareTimestamps(ts(2, 1), ts(2, 1))).toBe(0)
  })

  it('breaks timestamp ties by writer id, so the order is total', () => {
    expect(compareVersions({ physical: 5, logical: 1, writerId: 'a' }, { physical: 5, logical: 1, writerId: 'b' })).toBeLessThan(0)
    expect(compareVersions({ physical: 5, logical: 2, writerId: 'a' }, { physical: 5, logical: 1, writerId: 'b' })).toBeGreaterThan(0)
    expect(compareVersions({ physical: 5, logical: 1, writerId: 'a' }, { physical: 5, logical: 1, writerId: 'a' })).toBe(0)
  })

  it('validates timestamps', () => {
    expect(isValidTimestamp(ts(0, 0))).toBe(true)
    expect(isValidTimestamp(ts(-1, 0))).toBe(false)
    expect(isValidTimestamp(ts(1.5, 0))).toBe(false)
    expect(isValidTimestamp(ts(1, MAX_LOGICAL + 1))).toBe(false)
    expect(isValidTimestamp(ts(Number.NaN, 0))).toBe(false)
  })
})

describe('Hlc', () => {
  it('issues strictly increasing timestamps while the wall clock stalls', () => {
    const clock = new ManualClock(1000)
    const hlc = new Hlc(clock)
    const seen = [hlc.now(), hlc.now(), hlc.now()]
    expect(seen).toEqual([ts(1000, 0), ts(1000, 1), ts(1000, 2)])
    clock.advance(5)
    expect(hlc.now()).toEqual(ts(1005, 0))
  })

  it('stays monotonic when the wall clock goes backwards', () => {
    let wall = 5000
    const hlc = new Hlc({ now: () => wall, setTimer: () => ({ id: 0 }), clearTimer: () => {} })
    const a = hlc.now()
    wall = 4000
    const b = hlc.now()
    const c = hlc.now()
    expect(compareTimestamps(b, a)).toBeGreaterThan(0)
    expect(compareTimestamps(c, b)).toBeGreaterThan(0)
    expect(b.physical).toBe(5000)
  })

  it('after receiving a timestamp from ahead, issues timestamps after it', () => {
    const clock = new ManualClock(1000)
    const hlc = new Hlc(clock)
    hlc.update(ts(9000, 4))
    expect(hlc.now()).toEqual(ts(9000, 6))
    clock.advance(10_000)
    expect(hlc.now()).toEqual(ts(11_000, 0))
  })

  it('ignores the physical part of a timestamp from behind but stays monotonic', () => {
    const clock = new ManualClock(5000)
    const hlc = new Hlc(clock)
    hlc.now()
    const merged = hlc.update(ts(10, 99))
    expect(merged).toEqual(ts(5000, 1))
  })

  it('refuses a malformed remote timestamp', () => {
    const hlc = new Hlc(new ManualClock(0))
    expect(() => hlc.update(ts(-5, 0))).toThrow(InvalidVersionError)
    expect(() => hlc.update(ts(5, 70_000))).toThrow(/logical/)
  })
})
