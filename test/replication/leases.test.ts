import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FetchLeases } from '../../src/replication/leases.js'

/** Leases whose waiters are named strings; `leaseMs` 1000 unless told. */
function leases (init: ConstructorParameters<typeof FetchLeases>[0] = {}): FetchLeases<string> {
  return new FetchLeases<string>({ leaseMs: 1000, ...init })
}

function grantedId (answer: ReturnType<FetchLeases<string>['acquire']>): number {
  expect(answer.kind).toBe('granted')
  return (answer as { leaseId: number }).leaseId
}

describe('FetchLeases: acquire and fill', () => {
  it('the defaults are a 10 s lease, 1024 waiters per key, 10,000 keys and 10,000 not-found keys', () => {
    const l = new FetchLeases<string>()
    expect([l.leaseMs, l.maxWaitersPerKey, l.maxKeys, l.maxNotFound]).toEqual([10_000, 1024, 10_000, 10_000])
  })

  it('the first caller gets the lease, the next ones wait', () => {
    const l = leases()
    expect(l.acquire('k', 'peer-a', 'w1', 0, 500)).toEqual({ kind: 'granted', leaseId: expect.any(Number) })
    expect(l.acquire('k', 'peer-b', 'w2', 1, 500)).toEqual({ kind: 'wait' })
    expect(l.acquire('k', 'peer-c', 'w3', 2, 500)).toEqual({ kind: 'wait' })
    expect(l.activeLeases).toBe(1)
  })

  it('keys are independent', () => {
    const l = leases()
    const a = grantedId(l.acquire('a', 'peer-a', 'w1', 0, 500))
    const b = grantedId(l.acquire('b', 'peer-a', 'w2', 0, 500))
    expect(a).not.toBe(b)
    expect(l.activeLeases).toBe(2)
  })

  it('fill returns every waiter, in arrival order, and ends the lease', () => {
    const l = leases()
    const id = grantedId(l.acquire('k', 'peer-a', 'holder', 0, 500))
    l.acquire('k', 'peer-b', 'w1', 1, 500)
    l.acquire('k', 'peer-c', 'w2', 2, 500)
    expect(l.fill('k', id)).toEqual(['w1', 'w2'])
    expect(l.activeLeases).toBe(0)
    // the next miss starts afresh
    expect(l.acquire('k', 'peer-d', 'w3', 3, 500).kind).toBe('granted')
  })

  it('fill with no waiters returns an empty list; a second fill, or an unknown key or id, returns nothing', () => {
    const l = leases()
    const id = grantedId(l.acquire('k', 'peer-a', 'holder', 0, 500))
    expect(l.fill('k', id + 1)).toBeUndefined()
    expect(l.fill('other', id)).toBeUndefined()
    expect(l.fill('k', id)).toEqual([])
    expect(l.fill('k', id)).toBeUndefined()
  })

  it('lease ids are never reused', () => {
    const l = leases()
    const ids = new Set<number>()
    for (let i = 0; i < 20; i++) {
      const id = grantedId(l.acquire('k', 'peer-a', 'w', i, i + 500))
      ids.add(id)
      l.fill('k', id)
    }
    expect(ids.size).toBe(20)
  })
})

describe('FetchLeases: abandon and hand-over', () => {
  it('abandon hands the lease to the first waiter with a new id; the others keep waiting', () => {
    const l = leases()
    const first = grantedId(l.acquire('k', 'peer-a', 'holder', 0, 500))
    l.acquire('k', 'peer-b', 'w1', 1, 500)
    l.acquire('k', 'peer-c', 'w2', 2, 500)
    const next = l.abandon('k', first, 10)
    expect(next).toEqual({ waiter: 'w1', leaseId: expect.any(Number) })
    expect(next!.leaseId).not.toBe(first)
    expect(l.activeLeases).toBe(1)
    expect(l.fill('k', next!.leaseId)).toEqual(['w2'])
  })

  it('the new holder gets a full lease from the hand-over', () => {
    const l = leases()
    const first = grantedId(l.acquire('k', 'peer-a', 'holder', 0, 5000))
    l.acquire('k', 'peer-b', 'w1', 0, 5000)
    l.acquire('k', 'peer-c', 'w2', 0, 5000)
    l.abandon('k', first, 800)
    expect(l.nextDeadlineMs()).toBe(1800)
    expect(l.tick(1799).handedOver).toEqual([])
  })

  it('abandon with nobody waiting ends the lease', () => {
    const l = leases()
    const id = grantedId(l.acquire('k', 'peer-a', 'holder', 0, 500))
    expect(l.abandon('k', id, 1)).toBeUndefined()
    expect(l.activeLeases).toBe(0)
  })

  it('a stale lease id (after a hand-over) fills and abandons nothing', () => {
    const l = leases()
    const old = grantedId(l.acquire('k', 'peer-a', 'holder', 0, 500))
    l.acquire('k', 'peer-b', 'w1', 1, 500)
    l.acquire('k', 'peer-c', 'w2', 1, 500)
    const next = l.abandon('k', old, 2)!
    expect(l.fill('k', old)).toBeUndefined()
    expect(l.abandon('k', old, 3)).toBeUndefined()
    expect(l.activeLeases).toBe(1)
    // the waiter still gets the value from the new holder
    expect(l.fill('k', next.leaseId)).toEqual(['w2'])
  })
})

describe('FetchLeases: time', () => {
  it('waiters past their deadline time out; the others keep waiting', () => {
    const l = leases({ leaseMs: 10_000 })
    const id = grantedId(l.acquire('k', 'peer-a', 'holder', 0, 10_000))
    l.acquire('k', 'peer-b', 'early', 0, 100)
    l.acquire('k', 'peer-c', 'late', 0, 300)
    expect(l.tick(99)).toEqual({ timedOut: [], handedOver: [] })
    expect(l.tick(100)).toEqual({ timedOut: ['early'], handedOver: [] })
    expect(l.tick(200)).toEqual({ timedOut: [], handedOver: [] })
    expect(l.fill('k', id)).toEqual(['late'])
  })

  it('an expired lease passes to its first waiter still in time', () => {
    const l = leases({ leaseMs: 1000 })
    const old = grantedId(l.acquire('k', 'peer-a', 'holder', 0, 5000))
    l.acquire('k', 'peer-b', 'gone', 0, 1000) // times out in the same tick
    l.acquire('k', 'peer-c', 'w1', 0, 5000)
    l.acquire('k', 'peer-d', 'w2', 0, 5000)
    const { timedOut, handedOver } = l.tick(1000)
    expect(timedOut).toEqual(['gone'])
    expect(handedOver).toEqual([{ key: 'k', waiter: 'w1', leaseId: expect.any(Number) }])
    expect(l.fill('k', old)).toBeUndefined()
    expect(l.fill('k', handedOver[0].leaseId)).toEqual(['w2'])
  })

  it('an expired lease nobody waits for just ends', () => {
    const l = leases({ leaseMs: 1000 })
    grantedId(l.acquire('k', 'peer-a', 'holder', 0, 5000))
    expect(l.tick(999)).toEqual({ timedOut: [], handedOver: [] })
    expect(l.activeLeases).toBe(1)
    expect(l.tick(1000)).toEqual({ timedOut: [], handedOver: [] })
    expect(l.activeLeases).toBe(0)
  })

  it('an expired lease that tick has not seen yet goes to the next caller, who takes over the waiters', () => {
    const l = leases({ leaseMs: 1000 })
    const old = grantedId(l.acquire('k', 'peer-a', 'holder', 0, 5000))
    l.acquire('k', 'peer-b', 'w1', 0, 5000)
    const fresh = grantedId(l.acquire('k', 'peer-c', 'newcomer', 1000, 5000))
    expect(fresh).not.toBe(old)
    expect(l.fill('k', old)).toBeUndefined()
    expect(l.fill('k', fresh)).toEqual(['w1'])
  })

  it('a late fill before the lease is handed over still answers the waiters', () => {
    const l = leases({ leaseMs: 1000 })
    const id = grantedId(l.acquire('k', 'peer-a', 'holder', 0, 5000))
    l.acquire('k', 'peer-b', 'w1', 0, 5000)
    expect(l.fill('k', id)).toEqual(['w1'])
  })

  it('nextDeadlineMs is the earliest lease expiry or waiter deadline', () => {
    const l = leases({ leaseMs: 1000 })
    expect(l.nextDeadlineMs()).toBe(Infinity)
    l.acquire('a', 'peer-a', 'holder', 0, 5000)
    expect(l.nextDeadlineMs()).toBe(1000)
    l.acquire('a', 'peer-b', 'w1', 0, 400)
    expect(l.nextDeadlineMs()).toBe(400)
    l.acquire('b', 'peer-a', 'holder', 200, 5000)
    expect(l.nextDeadlineMs()).toBe(400)
    l.tick(400)
    expect(l.nextDeadlineMs()).toBe(1000)
  })
})

describe('FetchLeases: bounds', () => {
  it('refuses a waiter past maxWaitersPerKey (the caller loads itself)', () => {
    const l = leases({ maxWaitersPerKey: 2 })
    const id = grantedId(l.acquire('k', 'peer-a', 'holder', 0, 500))
    expect(l.acquire('k', 'peer-b', 'w1', 0, 500).kind).toBe('wait')
    expect(l.acquire('k', 'peer-c', 'w2', 0, 500).kind).toBe('wait')
    expect(l.acquire('k', 'peer-d', 'w3', 0, 500)).toEqual({ kind: 'refused' })
    expect(l.fill('k', id)).toEqual(['w1', 'w2'])
  })

  it('refuses a lease on a new key past maxKeys, but not on a key that has one', () => {
    const l = leases({ maxKeys: 2 })
    const a = grantedId(l.acquire('a', 'peer-a', 'w', 0, 500))
    grantedId(l.acquire('b', 'peer-a', 'w', 0, 500))
    expect(l.acquire('c', 'peer-a', 'w', 0, 500)).toEqual({ kind: 'refused' })
    expect(l.tryAcquire('c', 'peer-a', 0)).toBeUndefined()
    expect(l.acquire('a', 'peer-b', 'w2', 0, 500).kind).toBe('wait')
    // an expired lease of a known key is renewed even when full
    expect(l.acquire('a', 'peer-c', 'w3', 1000, 5000).kind).toBe('granted')
    expect(l.fill('a', a)).toBeUndefined() // the first holder's id went stale with the renewal
    expect(l.activeLeases).toBe(2)
    // room again once a lease ends
    l.tick(5000)
    expect(l.acquire('c', 'peer-a', 'w', 5000, 5500).kind).toBe('granted')
  })
})

describe('FetchLeases: tryAcquire (a refresh never waits)', () => {
  it('grants when nobody holds the key, and refuses without queueing when somebody does', () => {
    const l = leases()
    const id = l.tryAcquire('k', 'peer-a', 0)
    expect(id).toEqual(expect.any(Number))
    expect(l.tryAcquire('k', 'peer-b', 1)).toBeUndefined()
    expect(l.fill('k', id!)).toEqual([])
  })

  it('takes over an expired lease, and with it the waiters', () => {
    const l = leases({ leaseMs: 1000 })
    const old = grantedId(l.acquire('k', 'peer-a', 'holder', 0, 5000))
    l.acquire('k', 'peer-b', 'w1', 0, 5000)
    const id = l.tryAcquire('k', 'peer-c', 1000)
    expect(id).toBeDefined()
    expect(id).not.toBe(old)
    expect(l.fill('k', id!)).toEqual(['w1'])
  })
})

describe('FetchLeases: not-found memory', () => {
  it('remembers a miss until its time, then forgets it', () => {
    const l = leases()
    expect(l.isKnownMissing('k', 0)).toBe(false)
    l.rememberNotFound('k', 1000)
    expect(l.isKnownMissing('k', 999)).toBe(true)
    expect(l.isKnownMissing('k', 1000)).toBe(false)
    expect(l.isKnownMissing('k', 0)).toBe(false) // forgotten, not just hidden
  })

  it('a write of the key clears it at once', () => {
    const l = leases()
    l.rememberNotFound('k', 1000)
    l.rememberNotFound('other', 1000)
    l.written('k')
    expect(l.isKnownMissing('k', 0)).toBe(false)
    expect(l.isKnownMissing('other', 0)).toBe(true)
  })

  it('remembering again moves the expiry', () => {
    const l = leases()
    l.rememberNotFound('k', 1000)
    l.rememberNotFound('k', 3000)
    expect(l.isKnownMissing('k', 2000)).toBe(true)
  })

  it('holds at most maxNotFound keys, dropping the oldest', () => {
    const l = leases({ maxNotFound: 2 })
    l.rememberNotFound('a', 1000)
    l.rememberNotFound('b', 1000)
    l.rememberNotFound('a', 1000) // refreshed: now the newest
    l.rememberNotFound('c', 1000)
    expect(['a', 'b', 'c'].map((k) => l.isKnownMissing(k, 0))).toEqual([true, false, true])
  })

  it('clear returns every waiter of every key and forgets leases and misses', () => {
    const l = leases()
    l.acquire('a', 'peer-a', 'holder', 0, 500)
    l.acquire('a', 'peer-b', 'w1', 0, 500)
    l.acquire('b', 'peer-a', 'holder', 0, 500)
    l.acquire('b', 'peer-b', 'w2', 0, 500)
    l.rememberNotFound('c', 1000)
    expect(l.clear().sort()).toEqual(['w1', 'w2'])
    expect(l.activeLeases).toBe(0)
    expect(l.isKnownMissing('c', 0)).toBe(false)
    expect(l.tick(10_000)).toEqual({ timedOut: [], handedOver: [] })
  })
})

describe('FetchLeases: every waiter is answered exactly once (property)', () => {
  type Op =
    | { kind: 'acquire', key: number }
    | { kind: 'fill', key: number }
    | { kind: 'abandon', key: number }
    | { kind: 'advance', ms: number }
    | { kind: 'clear' }
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('acquire' as const), key: fc.nat(2) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('fill' as const), key: fc.nat(2) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('abandon' as const), key: fc.nat(2) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.nat(700) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const) }) }
  )

  it('granted, told to wait, then answered by fill, hand-over, timeout or clear: once each, and one holder per key', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 80 }), fc.nat(2000), (ops, waitMs) => {
      const l = leases({ leaseMs: 1000, maxWaitersPerKey: 4 })
      let now = 0
      let n = 0
      /** The current holder's lease id per key, as this test's callers know it. */
      const holder = new Map<string, number>()
      const waiting = new Set<string>()
      const answered = (w: string): void => {
        expect(waiting.has(w), `${w} answered while not waiting`).toBe(true)
        waiting.delete(w)
      }
      for (const o of ops) {
        if (o.kind === 'acquire') {
          const key = `k${o.key}`
          const w = `w${n++}`
          const a = l.acquire(key, 'peer', w, now, now + waitMs)
          if (a.kind === 'granted') holder.set(key, a.leaseId)
          else if (a.kind === 'wait') waiting.add(w)
        } else if (o.kind === 'fill' || o.kind === 'abandon') {
          const key = `k${o.key}`
          const id = holder.get(key)
          if (id === undefined) continue
          holder.delete(key)
          if (o.kind === 'fill') {
            for (const w of l.fill(key, id) ?? []) answered(w)
          } else {
            const next = l.abandon(key, id, now)
            if (next !== undefined) { answered(next.waiter); holder.set(key, next.leaseId) }
          }
        } else if (o.kind === 'advance') {
          now += o.ms
          const { timedOut, handedOver } = l.tick(now)
          for (const w of timedOut) answered(w)
          for (const h of handedOver) { answered(h.waiter); holder.set(h.key, h.leaseId) }
        } else {
          for (const w of l.clear()) answered(w)
          holder.clear()
        }
        expect(l.activeLeases).toBeLessThanOrEqual(3)
      }
      for (const w of l.clear()) answered(w)
      expect([...waiting]).toEqual([])
    }), { seed: 0x1ea5e, numRuns: 300 })
  })
})
