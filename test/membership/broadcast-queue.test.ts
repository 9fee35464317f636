import { describe, expect, it } from 'vitest'
import { BroadcastQueue } from '../../src/membership/broadcast-queue.js'
import type { UpdatePriority } from '../../src/membership/broadcast-queue.js'
import { decodeMembershipMessage, encodeDatagram, encodeUpdate } from '../../src/wire/membership.js'
import type { MemberUpdate } from '../../src/wire/membership.js'

const alive = (id: string, incarnation = 0): MemberUpdate => ({ kind: 'alive', id, incarnation, address: `addr-${id}`, meta: {} })
const dead = (id: string, incarnation = 0): MemberUpdate => ({ kind: 'dead', id, incarnation, from: 'me' })
const suspect = (id: string, incarnation = 0): MemberUpdate => ({ kind: 'suspect', id, incarnation, accusers: ['me'] })

function add (q: BroadcastQueue, u: MemberUpdate, p: UpdatePriority): boolean {
  return q.enqueue(u, encodeUpdate(u), p)
}

/** Packs one message and decodes what it carries. */
function take (q: BroadcastQueue, budget = 1400, limit = 10, maxCount = 127): MemberUpdate[] {
  const out: Uint8Array[] = []
  q.pack(budget, limit, maxCount, out)
  if (out.length === 0) return []
  const msg = decodeMembershipMessage(encodeDatagram({ type: 'gossip', sourceId: 'me', updates: out }))
  return msg.type === 'gossip' ? msg.updates : []
}

const ids = (us: MemberUpdate[]): string[] => us.map((u) => u.id)

describe('BroadcastQueue', () => {
  it('sends urgent updates first, then suspects, then others, fewest-sent first within a class', () => {
    const q = new BroadcastQueue(100)
    add(q, alive('a'), 2)
    add(q, suspect('s'), 1)
    add(q, dead('d'), 0)
    expect(ids(take(q, 1400, 10, 2))).toEqual(['d', 's'])
    // the class beats the transmit count: a (never sent) still waits behind d and s (sent once)
    expect(ids(take(q, 1400, 10, 2))).toEqual(['d', 's'])
    add(q, dead('e'), 0)
    expect(ids(take(q, 1400, 10, 1))).toEqual(['e'])
    expect(ids(take(q, 1400, 10, 3))).toEqual(['e', 'd', 's'])
  })

  it('retires an update after `limit` transmissions', () => {
    const q = new BroadcastQueue(100)
    add(q, alive('a'), 2)
    for (let i = 0; i < 3; i++) expect(ids(take(q, 1400, 3))).toEqual(['a'])
    expect(take(q, 1400, 3)).toEqual([])
    expect(q.length).toBe(0)
  })

  it('keeps one update per member: a newer one replaces the older and starts fresh', () => {
    const q = new BroadcastQueue(100)
    add(q, alive('a', 1), 2)
    take(q)
    add(q, suspect('a', 1), 1)
    expect(q.length).toBe(1)
    expect(take(q)).toEqual([suspect('a', 1)])
    expect(q.get('a')!.transmits).toBe(1)
  })

  it('never packs more bytes than the budget, nor the same update twice in one message', () => {
    const q = new BroadcastQueue(1000)
    for (let i = 0; i < 200; i++) add(q, alive(`member-${i}`), 2)
    const out: Uint8Array[] = []
    const used = q.pack(500, 10, 127, out)
    expect(used).toBeLessThanOrEqual(500)
    expect(out.reduce((n, b) => n + b.byteLength + 1, 0)).toBe(used)
    expect(new Set(out).size).toBe(out.length)
    expect(out.length).toBeGreaterThan(10)
  })

  it('spreads transmissions: with more updates than fit, every one is sent before any is sent twice', () => {
    const q = new BroadcastQueue(1000)
    for (let i = 0; i < 60; i++) add(q, alive(`m${i}`), 2)
    const seen = new Map<string, number>()
    for (let round = 0; round < 6; round++) for (const u of take(q, 400)) seen.set(u.id, (seen.get(u.id) ?? 0) + 1)
    const counts = [...seen.values()]
    expect(seen.size).toBe(60)
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
  })

  it('is bounded: when full it drops the least useful update and counts the drop', () => {
    const q = new BroadcastQueue(3)
    add(q, alive('a'), 2)
    add(q, alive('b'), 2)
    take(q) // a and b sent once
    add(q, alive('c'), 2)
    expect(add(q, dead('d'), 0)).toBe(true) // evicts the most-sent of the lowest class: a
    expect(q.drops).toBe(1)
    expect(q.length).toBe(3)
    expect(q.get('a')).toBeUndefined()
    // full of more useful updates: a new low-priority one is the one dropped
    const full = new BroadcastQueue(2)
    add(full, dead('x'), 0)
    add(full, dead('y'), 0)
    expect(add(full, alive('z'), 2)).toBe(false)
    expect(full.drops).toBe(1)
    expect(full.get('x')).toBeDefined()
  })

  it('skips the member the caller already described, and forgets removed members', () => {
    const q = new BroadcastQueue(10)
    add(q, suspect('s'), 1)
    add(q, alive('a'), 2)
    const out: Uint8Array[] = []
    q.pack(1400, 10, 127, out, 's')
    expect(out).toHaveLength(1)
    q.remove('a')
    expect(q.length).toBe(1)
  })
})
