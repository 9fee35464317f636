import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/env/clock.js'

describe('ManualClock', () => {
  it('fires timers in time order, same-time timers in the order they were set', () => {
    const clock = new ManualClock(1000)
    const fired: string[] = []
    clock.setTimer(30, () => fired.push('c'))
    clock.setTimer(10, () => fired.push('a'))
    clock.setTimer(10, () => fired.push('b'))
    clock.advance(20)
    expect(fired).toEqual(['a', 'b'])
    expect(clock.now()).toBe(1020)
    clock.advance(10)
    expect(fired).toEqual(['a', 'b', 'c'])
  })

  it('reports the due time as now inside a firing timer, and honours timers set while firing', () => {
    const clock = new ManualClock(0)
    const seen: number[] = []
    clock.setTimer(5, () => { seen.push(clock.now()); clock.setTimer(5, () => seen.push(clock.now())) })
    clock.advance(100)
    expect(seen).toEqual([5, 10])
    expect(clock.now()).toBe(100)
  })

  it('does not fire a cleared timer and counts pending timers', () => {
    const clock = new ManualClock()
    let fired = false
    const h = clock.setTimer(1, () => { fired = true })
    clock.setTimer(2, () => {})
    expect(clock.pendingTimers).toBe(2)
    clock.clearTimer(h)
    clock.clearTimer(h)
    expect(clock.pendingTimers).toBe(1)
    clock.advance(5)
    expect(fired).toBe(false)
    expect(clock.pendingTimers).toBe(0)
  })

  it('refuses to go backwards', () => {
    expect(() => new ManualClock(0).advance(-1)).toThrow(RangeError)
  })
})
