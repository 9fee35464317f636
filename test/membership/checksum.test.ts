import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MembershipChecksum, membershipChecksum } from '../../src/membership/checksum.js'
import type { MemberState } from '../../src/wire/membership.js'

interface Triple { id: string, incarnation: number, state: MemberState }
const triple = fc.record({
  id: fc.string({ minLength: 1, maxLength: 10 }),
  incarnation: fc.maxSafeNat(),
  state: fc.constantFrom<MemberState>('alive', 'suspect', 'dead', 'left')
})
const view = fc.uniqueArray(triple, { selector: (t) => t.id, maxLength: 30 })

describe('membership checksum', () => {
  it('does not depend on order, and updating one member in place equals recomputing', () => {
    fc.assert(fc.property(view, fc.nat(), fc.maxSafeNat(), (members: Triple[], pick, inc) => {
      const sum = membershipChecksum(members)
      expect(membershipChecksum([...members].reverse())).toBe(sum)
      if (members.length === 0) return
      const i = pick % members.length
      const incremental = new MembershipChecksum()
      for (const m of members) incremental.add(m.id, m.incarnation, m.state)
      const changed = { ...members[i], incarnation: inc, state: 'dead' as const }
      incremental.remove(members[i].id, members[i].incarnation, members[i].state)
      incremental.add(changed.id, changed.incarnation, changed.state)
      const next = members.map((m, j) => j === i ? changed : m)
      expect(incremental.toString()).toBe(membershipChecksum(next))
    }), { seed: 42, numRuns: 300 })
  })

  it('tells views apart by id, incarnation and state', () => {
    const base = [{ id: 'a', incarnation: 1, state: 'alive' as const }, { id: 'b', incarnation: 0, state: 'alive' as const }]
    const sum = membershipChecksum(base)
    expect(sum).toMatch(/^[0-9a-f]{16}$/)
    expect(membershipChecksum([base[0], { ...base[1], incarnation: 1 }])).not.toBe(sum)
    expect(membershipChecksum([base[0], { ...base[1], state: 'suspect' }])).not.toBe(sum)
    expect(membershipChecksum([base[0]])).not.toBe(sum)
    expect(membershipChecksum([base[0], { ...base[1], id: 'c' }])).not.toBe(sum)
    expect(membershipChecksum([])).toBe('0000000000000000')
  })
})
