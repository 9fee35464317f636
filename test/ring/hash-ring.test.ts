import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../src/errors.js'
import { arcContains, arcLength, createHashRing, DEFAULT_VNODES, keyPoint, RING_SIZE, vnodePoint, type HashRing } from '../../src/ring/index.js'
import { mergeSorted, rangesOfPoints } from '../../src/ring/hash-ring.js'

const SEED = 0xc0ffee
const PEERS = ['peer-a', 'peer-b', 'peer-c', 'peer-d', 'peer-e']
const KEYS = Array.from({ length: 2000 }, (_, i) => `key-${i}`)

/** The obvious implementation, to check the fast one against: every vnode sorted, linear scans. */
function naivePreferenceList (peers: string[], vnodes: number, point: number, replicas: number): string[] {
  const all = peers.flatMap((peer) => Array.from({ length: vnodes }, (_, i) => ({ point: vnodePoint(peer, i), peer })))
  all.sort((a, b) => a.point - b.point || (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0))
  let start = all.findIndex((v) => v.point >= point)
  if (start === -1) start = 0
  const out: string[] = []
  for (let step = 0; step < all.length && out.length < replicas; step++) {
    const { peer } = all[(start + step) % all.length]
    if (!out.includes(peer)) out.push(peer)
  }
  return out
}

const peerSet = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 10 })
const keyArb = fc.string({ unit: 'binary', maxLength: 24 })

describe('HashRing options', () => {
  it.each([0, -1, 1.5, 4097, Number.NaN])('refuses vnodes = %s and says how to fix it', (vnodes) => {
    expect(() => createHashRing({ vnodes })).toThrow(InvalidOptionError)
    expect(() => createHashRing({ vnodes })).toThrow(/vnodes must be an integer from 1 to 4096/)
  })

  it('accepts the bounds of vnodes and defaults to 256', () => {
    expect(createHashRing({ vnodes: 1, peers: ['a'] }).pointCount).toBe(1)
    expect(createHashRing({ vnodes: 4096, peers: ['a'] }).pointCount).toBe(4096)
    expect(createHashRing().vnodes).toBe(DEFAULT_VNODES)
    expect(DEFAULT_VNODES).toBe(256)
  })

  it.each([0, -3, 2.5, Number.NaN])('refuses replicas = %s', (replicas) => {
    const ring = createHashRing({ peers: PEERS })
    expect(() => ring.preferenceList('ns', 'k', replicas)).toThrow(InvalidOptionError)
    expect(() => ring.preferenceList('ns', 'k', replicas)).toThrow(/replicas must be an integer >= 1/)
  })

  it('refuses an empty peer id', () => {
    expect(() => createHashRing({ peers: ['a', ''] })).toThrow(InvalidOptionError)
    expect(() => createHashRing().withPeer('')).toThrow(/non-empty string/)
  })

  it('refuses a point outside the ring', () => {
    const ring = createHashRing({ peers: PEERS })
    expect(() => ring.primaryAt(-1)).toThrow(RangeError)
    expect(() => ring.primaryAt(RING_SIZE)).toThrow(RangeError)
    expect(() => ring.rangeOf(Number.NaN)).toThrow(RangeError)
  })
})

describe('HashRing lookups', () => {
  it('answers nothing on an empty ring', () => {
    const ring = createHashRing()
    expect(ring.size).toBe(0)
    expect(ring.primary('ns', 'k')).toBeUndefined()
    expect(ring.preferenceList('ns', 'k', 3)).toEqual([])
    expect(ring.ranges()).toEqual([])
    expect(ring.rangeOf(0)).toBeUndefined()
  })

  it('matches the obvious implementation for arbitrary peers, vnodes and keys', () => {
    fc.assert(fc.property(peerSet, fc.integer({ min: 1, max: 12 }), fc.array(keyArb, { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 12 }),
      (peers, vnodes, keys, replicas) => {
        const ring = createHashRing({ peers, vnodes })
        for (const key of keys) {
          const expected = naivePreferenceList(peers, vnodes, keyPoint('ns', key), replicas)
          expect(ring.preferenceList('ns', key, replicas)).toEqual(expected)
          expect(ring.primary('ns', key)).toBe(expected[0])
        }
      }), { seed: SEED, numRuns: 200 })
  })

  it('returns distinct peers, primary first, as many as asked or all of them', () => {
    const ring = createHashRing({ peers: PEERS })
    for (const key of KEYS.slice(0, 200)) {
      const three = ring.preferenceList('ns', key, 3)
      expect(new Set(three).size).toBe(3)
      expect(three[0]).toBe(ring.primary('ns', key))
      const all = ring.preferenceList('ns', key, 50)
      expect([...all].sort()).toEqual(PEERS)
      // A longer list extends a shorter one: replica i is the same peer whatever the replication factor.
      expect(all.slice(0, 3)).toEqual(three)
    }
  })

  it('writes into a caller-provided array and truncates it', () => {
    const ring = createHashRing({ peers: PEERS })
    const out = ['stale', 'stale', 'stale', 'stale', 'stale', 'stale', 'stale']
    expect(ring.preferenceListInto('ns', 'k', 2, out)).toBe(2)
    expect(out).toEqual(ring.preferenceList('ns', 'k', 2))
    expect(ring.preferenceListInto('ns', 'k', 9, out)).toBe(5)
    expect(out).toHaveLength(5)
    expect(ring.preferenceListAt(ring.keyPoint('ns', 'k'), 2, out)).toBe(2)
    expect(out).toEqual(ring.preferenceList('ns', 'k', 2))
  })

  it('wraps around: a point past the last vnode belongs to the first one', () => {
    const ring = createHashRing({ peers: PEERS, vnodes: 4 })
    const ranges = ring.ranges()
    const first = ranges[0]
    const lastPoint = first.start
    expect(first.start).toBeGreaterThan(first.end) // the first arc is the one through 0
    expect(lastPoint).toBeLessThan(RING_SIZE - 1)
    expect(ring.primaryAt(RING_SIZE - 1)).toBe(first.owner)
    expect(ring.primaryAt(0)).toBe(first.owner)
    expect(ring.primaryAt(lastPoint)).toBe(ranges[ranges.length - 1].owner)
    expect(ring.rangeOf(RING_SIZE - 1)).toEqual(first)
    const out: string[] = []
    ring.preferenceListAt(RING_SIZE - 1, 3, out)
    expect(out).toEqual(naivePreferenceList(PEERS, 4, RING_SIZE - 1, 3))
  })

  it('gives one peer with one vnode the whole ring', () => {
    const ring = createHashRing({ peers: ['solo'], vnodes: 1 })
    const p = vnodePoint('solo', 0)
    expect(ring.ranges()).toEqual([{ start: p, end: p, owner: 'solo' }])
    expect(ring.rangeOf(0)).toEqual({ start: p, end: p, owner: 'solo' })
    expect(ring.shares().get('solo')).toBe(1)
    expect(ring.preferenceList('ns', 'k', 3)).toEqual(['solo'])
  })

  it('spreads keys over peers (no peer far above its fair share)', () => {
    const peers = Array.from({ length: 50 }, (_, i) => `12D3KooWpeer${i}`)
    const ring = createHashRing({ peers })
    const counts = new Map<string, number>()
    for (let i = 0; i < 50_000; i++) {
      const owner = ring.primary('ns', `key-${i}`)!
      counts.set(owner, (counts.get(owner) ?? 0) + 1)
    }
    expect(counts.size).toBe(50)
    const shares = [...ring.shares().values()]
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12)
    expect(Math.max(...shares) * 50).toBeLessThan(1.3)
    expect(Math.max(...counts.values()) / 1000).toBeLessThan(1.3)
    expect(Math.min(...counts.values()) / 1000).toBeGreaterThan(0.7)
  })
})

describe('HashRing ranges', () => {
  function checkRanges (ring: HashRing): void {
    const ranges = ring.ranges()
    let total = 0
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i]
      const previous = ranges[(i + ranges.length - 1) % ranges.length]
      expect(r.start).toBe(previous.end) // contiguous, clockwise
      total += arcLength(r.start, r.end)
      expect(ring.primaryAt(r.end)).toBe(r.owner)
      expect(ring.primaryAt((r.start + 1) % RING_SIZE)).toBe(r.owner)
      expect(ring.rangeOf(r.end)).toEqual(r)
    }
    expect(total).toBe(RING_SIZE) // the arcs cover the circle exactly once
  }

  it('covers the ring exactly, each arc owned by its end vnode', () => {
    checkRanges(createHashRing({ peers: PEERS, vnodes: 8 }))
    fc.assert(fc.property(peerSet, fc.integer({ min: 1, max: 8 }), (peers, vnodes) => checkRanges(createHashRing({ peers, vnodes }))),
      { seed: SEED, numRuns: 100 })
  })

  it('puts every key in the range of its primary', () => {
    const ring = createHashRing({ peers: PEERS, vnodes: 16 })
    for (const key of KEYS.slice(0, 500)) {
      const point = ring.keyPoint('ns', key)
      const range = ring.rangeOf(point)!
      expect(arcContains(range.start, range.end, point)).toBe(true)
      expect(range.owner).toBe(ring.primary('ns', key))
    }
    const ofA = ring.rangesOf('peer-a')
    expect(ofA.length).toBeGreaterThan(0)
    expect(ofA.every((r) => r.owner === 'peer-a')).toBe(true)
    expect(ofA.reduce((a, r) => a + arcLength(r.start, r.end), 0) / RING_SIZE).toBeCloseTo(ring.shares().get('peer-a')!, 12)
  })

  it('orders vnodes on the same point by peer id', () => {
    const a = { points: new Float64Array([1, 5, 9]), owners: new Uint32Array([2, 2, 2]) }
    const b = { points: new Float64Array([5, 9, 12]), owners: new Uint32Array([0, 3, 0]) }
    const m = mergeSorted(a, b)
    expect([...m.points]).toEqual([1, 5, 5, 9, 9, 12])
    expect([...m.owners]).toEqual([2, 0, 2, 2, 3, 0])
    expect(mergeSorted(b, a)).toEqual(m)
  })

  it.each([
    ['distinct points', [3, 8], [0, 1], [{ start: 8, end: 3, owner: 'a' }, { start: 3, end: 8, owner: 'b' }]],
    ['a tie: the lower peer id owns the arc, the other an empty one', [5, 5, 9], [0, 1, 0], [{ start: 9, end: 5, owner: 'a' }, { start: 5, end: 9, owner: 'a' }]],
    ['a tie at the end', [2, 6, 6], [1, 0, 1], [{ start: 6, end: 2, owner: 'b' }, { start: 2, end: 6, owner: 'a' }]],
    ['one distinct point: the whole ring', [7, 7], [0, 1], [{ start: 7, end: 7, owner: 'a' }]]
  ])('lists arcs for %s', (_name, points, owners, expected) => {
    expect(rangesOfPoints(new Float64Array(points), new Uint32Array(owners), ['a', 'b'])).toEqual(expected)
  })
})

describe('HashRing membership changes', () => {
  it('is the same ring whatever the order peers were added in (checksum and placement)', () => {
    fc.assert(fc.property(peerSet, fc.integer({ min: 1, max: 8 }), fc.array(keyArb, { maxLength: 10 }), (peers, vnodes, keys) => {
      const all = createHashRing({ peers, vnodes })
      let incremental = createHashRing({ vnodes })
      for (const p of [...peers].reverse()) incremental = incremental.withPeer(p)
      expect(incremental.checksum()).toBe(all.checksum())
      expect(incremental.ranges()).toEqual(all.ranges())
      for (const k of keys) expect(incremental.preferenceList('ns', k, 3)).toEqual(all.preferenceList('ns', k, 3))
    }), { seed: SEED, numRuns: 100 })
  })

  it('changes the checksum with the peers or the vnodes, and only then', () => {
    const ring = createHashRing({ peers: PEERS })
    expect(ring.checksum()).toMatch(/^[0-9a-f]{16}$/)
    expect(createHashRing({ peers: [...PEERS].reverse() }).checksum()).toBe(ring.checksum())
    expect(ring.withPeer('peer-f').checksum()).not.toBe(ring.checksum())
    expect(ring.withPeer('peer-f').withoutPeer('peer-f').checksum()).toBe(ring.checksum())
    expect(ring.withoutPeer('peer-a').checksum()).not.toBe(ring.checksum())
    expect(createHashRing({ peers: PEERS, vnodes: 128 }).checksum()).not.toBe(ring.checksum())
    // Length-prefixed ids: splitting one id into two is another ring.
    expect(createHashRing({ peers: ['ab'] }).checksum()).not.toBe(createHashRing({ peers: ['a', 'b'] }).checksum())
  })

  it('returns the same ring for a no-op change and never mutates the old ring', () => {
    const ring = createHashRing({ peers: PEERS })
    expect(ring.withPeer('peer-a')).toBe(ring)
    expect(ring.withoutPeer('nobody')).toBe(ring)
    expect(ring.withPeerSet([...PEERS, 'peer-a'])).toBe(ring)
    const before = ring.preferenceList('ns', 'k', 5)
    const bigger = ring.withPeer('peer-z')
    expect(bigger.size).toBe(6)
    expect(ring.size).toBe(5)
    expect(ring.preferenceList('ns', 'k', 5)).toEqual(before)
    expect(ring.peers()).toEqual(PEERS)
  })

  it('moves only the keys of a removed peer, and only by dropping it from preference lists', () => {
    const ring = createHashRing({ peers: PEERS, vnodes: 32 })
    const smaller = ring.withoutPeer('peer-c')
    let moved = 0
    for (const key of KEYS) {
      const before = ring.preferenceList('ns', key, 3)
      const after = smaller.preferenceList('ns', key, 3)
      if (before[0] !== after[0]) {
        expect(before[0]).toBe('peer-c')
        moved++
      }
      const survivors = before.filter((p) => p !== 'peer-c')
      expect(after.slice(0, survivors.length)).toEqual(survivors)
    }
    expect(moved).toBeGreaterThan(0)
  })

  it('moves keys only to an added peer, and about 1/(n+1) of them', () => {
    const ring = createHashRing({ peers: PEERS })
    const bigger = ring.withPeer('peer-new')
    let moved = 0
    for (const key of KEYS) {
      const before = ring.preferenceList('ns', key, 3)
      const after = bigger.preferenceList('ns', key, 3)
      if (before[0] !== after[0]) {
        expect(after[0]).toBe('peer-new')
        moved++
      }
      const others = after.filter((p) => p !== 'peer-new')
      expect(before.slice(0, others.length)).toEqual(others)
    }
    expect(moved / KEYS.length).toBeGreaterThan(0.5 / 6)
    expect(moved / KEYS.length).toBeLessThan(1.5 / 6)
  })

  it('keeps these properties for arbitrary rings and changes', () => {
    fc.assert(fc.property(peerSet, fc.string({ minLength: 1, maxLength: 10 }), fc.array(keyArb, { minLength: 1, maxLength: 10 }), (peers, extra, keys) => {
      fc.pre(!peers.includes(extra))
      const ring = createHashRing({ peers, vnodes: 8 })
      const bigger = ring.withPeer(extra)
      expect(bigger.withoutPeer(extra).checksum()).toBe(ring.checksum())
      for (const k of keys) {
        const before = ring.primary('ns', k)
        const after = bigger.primary('ns', k)
        if (before !== after) expect(after).toBe(extra)
      }
    }), { seed: SEED, numRuns: 200 })
  })

  it('sets the peers to exactly a membership view, reusing the points of those who stay', () => {
    const ring = createHashRing({ peers: PEERS })
    const next = ring.withPeerSet(['peer-b', 'peer-x', 'peer-d', 'peer-b'])
    expect(next.peers()).toEqual(['peer-b', 'peer-d', 'peer-x'])
    expect(next.checksum()).toBe(createHashRing({ peers: ['peer-x', 'peer-d', 'peer-b'] }).checksum())
    expect(next.pointCount).toBe(3 * DEFAULT_VNODES)
    expect(next.has('peer-x')).toBe(true)
    expect(next.has('peer-a')).toBe(false)
  })
})
