import { describe, expect, it } from 'vitest'
import { MemberNumbers, MemberTable } from '../../src/membership/member-table.js'
import { Suspicion } from '../../src/membership/suspicion.js'

describe('MemberNumbers', () => {
  it('gives each distinct string one number, for good, and finds without adding', () => {
    const numbers = new MemberNumbers()
    expect(numbers.find('a')).toBe(-1)
    expect(numbers.size).toBe(0)
    const a = numbers.number('a')
    expect(numbers.number('b')).not.toBe(a)
    expect(numbers.number('a')).toBe(a)
    expect(numbers.find('a')).toBe(a)
    expect(numbers.string(a)).toBe('a')
    expect(numbers.size).toBe(2)
  })
})

describe('MemberTable', () => {
  it('holds members by number, lists them in insertion order, and forgets a deleted one', () => {
    const numbers = new MemberNumbers()
    const t = new MemberTable(numbers)
    const other = new MemberTable(numbers)
    const a = t.add('a', '10.0.0.1:7946', { zone: 'x' }, 3, 'alive', 100)
    const b = t.add('b', 'b', {}, 0, 'suspect', 200)
    const c = t.add('c', 'c', {}, 7, 'dead', 300)
    expect([t.at(0), t.at(1), t.at(2)]).toEqual([a, b, c])
    expect(t.size).toBe(3)
    expect(t.find('b')).toBe(b)
    expect(other.find('b')).toBe(-1)
    expect([t.id(a), t.address(a), t.meta(a), t.incarnation(a), t.state(a), t.changedAtMs(a)]).toEqual(['a', '10.0.0.1:7946', { zone: 'x' }, 3, 'alive', 100])
    expect(t.meta(b)).toEqual({})
    expect([t.isLive(a), t.isLive(b), t.isLive(c)]).toEqual([true, true, false])
    const s = new Suspicion(200, ['a'], 2, 1000, 5000)
    t.setSuspicion(b, s)
    expect(t.suspicion(b)).toBe(s)
    t.delete(b)
    expect(t.find('b')).toBe(-1)
    expect(t.suspicion(b)).toBeUndefined()
    expect([t.size, t.at(0), t.at(1)]).toEqual([2, a, c])
    // back under the same number, at the end of the order, with nothing left of its old life
    expect(t.add('b', 'b2', {}, 9, 'alive', 400)).toBe(b)
    expect([t.at(2), t.address(b), t.incarnation(b), t.suspicion(b), t.deadSlot(b)]).toEqual([b, 'b2', 9, undefined, 0])
  })

  it('grows past its first allocation', () => {
    const t = new MemberTable(new MemberNumbers())
    for (let i = 0; i < 1000; i++) t.add(`m${i}`, `m${i}`, {}, i, 'alive', i)
    expect(t.size).toBe(1000)
    expect(t.incarnation(t.find('m999'))).toBe(999)
    expect(t.id(t.at(500))).toBe('m500')
  })
})
