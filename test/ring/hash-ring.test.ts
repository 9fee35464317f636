import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SeededRandom, type Random } from '../../src/env/random.js'
import { InvalidOptionError } from '../../src/errors.js'
import { arcContains, arcLength, createHashRing, DEFAULT_LOAD_FACTOR, DEFAULT_VNODES, keyPoint, RING_SIZE, vnodePoint, type HashRing } from '../../src/ring/index.js'
import { mergeSorted, rangesOfPoints } from '../../src/ring/hash-ring.js'

const SEED = 0xc0ffee
const PEERS = ['peer-a', 'peer-b', 'peer-c', 'peer-d', 'peer-e']
const KEYS = Array.from({ length: 2000 }, (_, i) => `key-${i}`)

/**
 * The obvious implementation, to check the fast one against: every vnode sorted, each arc given to the
 * first owner clockwise from its point with room under the cap (its own when none has), linear scans.
 */
function naivePreferenceList (peers: string[], vnodes: number, point: number, replicas: number, loadFactor = DEFAULT_LOAD_FACTOR): string[] {
  const all = peers.flatMap((peer) => Array.from({ length: vnodes }, (_, i) => ({ point: vnodePoint(peer, i), peer })))
  all.sort((a, b) => a.point - b.point || (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0))
  const cap = loadFactor * RING_SIZE / peers.length
  const load = new Map(peers.map((p) => [p, 0]))
  const arcOwners = all.map((v, j) => {
    const length = j === 0 ? v.point + RING_SIZE - all[all.length - 1].point : v.point - all[j - 1].point
    let owner = v.peer
    if (length > 0) {
      const withRoom = Array.from({ length: all.length }, (_, s) => all[(j + s) % all.length].peer).find((p) => load.get(p)! + length <= cap)
      owner = withRoom ?? v.peer
    }
    load.set(owner, load.get(owner)! + length)
    return owner
  })
  let start = all.findIndex((v) => v.point >= point)
  if (start === -1) start = 0
  const out: string[] = []
  for (let step = 0; step < all.length && out.length < replicas; step++) {
    const peer = arcOwners[(start + step) % all.length]
    if (!out.includes(peer)) out.push(peer)
  }
  return out
}

/** Peer ids shaped like libp2p Ed25519 peer ids, from a seeded generator. */
function peerIds (random: Random, n: number): string[] {
  const base58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
  return Array.from({ length: n }, () => '12D3KooW' + Array.from({ length: 44 }, () => base58[random.int(base58.length)]).join(''))
}

/**
 * The fraction of the ring whose primary differs between two rings, and the part of it that went to
 * `peer`: exact, over the segments between the arc ends of both rings (each has one owner in each ring).
 */
function movedSpace (before: HashRing, after: HashRing, peer: string): { moved: number, toPeer: number, fromPeer: number } {
  const ends = [...new Set([...before.ranges(), ...after.ranges()].map((r) => r.end))].sort((a, b) => a - b)
  let moved = 0
  let toPeer = 0
  let fromPeer = 0
  for (let i = 0; i < ends.length; i++) {
    const length = arcLength(ends[i === 0 ? ends.length - 1 : i - 1], ends[i])
    const was = before.primaryAt(ends[i])
    const is = after.primaryAt(ends[i])
    if (was === is) continue
    moved += length
    if (is === peer) toPeer += length
    if (was === peer) fromPeer += length
  }
  return { moved: moved / RING_SIZE, toPeer: toPeer / RING_SIZE, fromPeer: fromPeer / RING_SIZE }
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

  it.each([0, 0.5, 1, -1, Number.NaN, -Infinity])('refuses loadFactor = %s and says how to fix it', (loadFactor) => {
    expect(() => createHashRing({ loadFactor })).toThrow(InvalidOptionError)
    expect(() => createHashRing({ loadFactor })).toThrow(/loadFactor must be a number greater than 1.*Infinity/)
  })

  it('refuses a loadFactor that is not a number', () => {
    expect(() => createHashRing({ loadFactor: '1.2' as unknown as number })).toThrow(/loadFactor must be a number/)
  })

  it('defaults loadFactor to a bound on the 1,000-peer spread, Infinity turning it off', () => {
    expect(createHashRing().loadFactor).toBe(DEFAULT_LOAD_FACTOR)
    expect(DEFAULT_LOAD_FACTOR).toBeGreaterThan(1)
    expect(DEFAULT_LOAD_FACTOR).toBeLessThanOrEqual(1.2)
    expect(createHashRing({ loadFactor: Infinity }).loadFactor).toBe(Infinity)
    expect(createHashRing({ loadFactor: 1.05 }).loadFactor).toBe(1.05)
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

  it('matches the obvious implementation for arbitrary peers, vnodes, load factors and keys', () => {
    const loadFactorArb = fc.oneof(fc.constant(DEFAULT_LOAD_FACTOR), fc.constant(Infinity), fc.double({ min: 1.01, max: 2, noNaN: true }))
    fc.assert(fc.property(peerSet, fc.integer({ min: 1, max: 12 }), fc.array(keyArb, { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 12 }), loadFactorArb,
      (peers, vnodes, keys, replicas, loadFactor) => {
        const ring = createHashRing({ peers, vnodes, loadFactor })
        for (const key of keys) {
          const expected = naivePreferenceList(peers, vnodes, keyPoint('ns', key), replicas, loadFactor)
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

  it('covers the ring exactly, one arc per distinct point, each with the owner lookups give', () => {
    checkRanges(createHashRing({ peers: PEERS, vnodes: 8 }))
    checkRanges(createHashRing({ peers: PEERS, vnodes: 64 }))
    fc.assert(fc.property(peerSet, fc.integer({ min: 1, max: 8 }), fc.constantFrom(DEFAULT_LOAD_FACTOR, Infinity, 1.01),
      (peers, vnodes, loadFactor) => checkRanges(createHashRing({ peers, vnodes, loadFactor }))),
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
    fc.assert(fc.property(peerSet, fc.integer({ min: 1, max: 8 }), fc.array(keyArb, { maxLength: 10 }), fc.constantFrom(DEFAULT_LOAD_FACTOR, Infinity, 1.05), (peers, vnodes, keys, loadFactor) => {
      const all = createHashRing({ peers, vnodes, loadFactor })
      let incremental = createHashRing({ vnodes, loadFactor })
      for (const p of [...peers].reverse()) incremental = incremental.withPeer(p)
      expect(incremental.checksum()).toBe(all.checksum())
      expect(incremental.ranges()).toEqual(all.ranges())
      for (const k of keys) expect(incremental.preferenceList('ns', k, 3)).toEqual(all.preferenceList('ns', k, 3))
    }), { seed: SEED, numRuns: 100 })
  })

  it('changes the checksum with the peers, the vnodes or the load factor, and only then', () => {
    const ring = createHashRing({ peers: PEERS })
    expect(ring.checksum()).toMatch(/^[0-9a-f]{16}$/)
    expect(createHashRing({ peers: [...PEERS].reverse() }).checksum()).toBe(ring.checksum())
    expect(ring.withPeer('peer-f').checksum()).not.toBe(ring.checksum())
    expect(ring.withPeer('peer-f').withoutPeer('peer-f').checksum()).toBe(ring.checksum())
    expect(ring.withoutPeer('peer-a').checksum()).not.toBe(ring.checksum())
    expect(createHashRing({ peers: PEERS, vnodes: 128 }).checksum()).not.toBe(ring.checksum())
    expect(createHashRing({ peers: PEERS, loadFactor: 1.3 }).checksum()).not.toBe(ring.checksum())
    expect(createHashRing({ peers: PEERS, loadFactor: Infinity }).checksum()).not.toBe(ring.checksum())
    expect(createHashRing({ peers: PEERS, loadFactor: DEFAULT_LOAD_FACTOR }).checksum()).toBe(ring.checksum())
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

  it('without bounded loads, moves only the keys of a removed peer, and only by dropping it from preference lists', () => {
    const ring = createHashRing({ peers: PEERS, vnodes: 32, loadFactor: Infinity })
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

  it('without bounded loads, moves keys only to an added peer, and about 1/(n+1) of them', () => {
    const ring = createHashRing({ peers: PEERS, loadFactor: Infinity })
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

  it('without bounded loads, keeps these properties for arbitrary rings and changes', () => {
    fc.assert(fc.property(peerSet, fc.string({ minLength: 1, maxLength: 10 }), fc.array(keyArb, { minLength: 1, maxLength: 10 }), (peers, extra, keys) => {
      fc.pre(!peers.includes(extra))
      const ring = createHashRing({ peers, vnodes: 8, loadFactor: Infinity })
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

describe('HashRing bounded loads', () => {
  const random = new SeededRandom(0x10ad)
  const thousand = peerIds(random.fork('peers-1000'), 1000)
  const hundred = peerIds(random.fork('peers-100'), 100)
  const joiners = peerIds(random.fork('joiners'), 5)

  it('keeps every peer of 1,000 x 256 vnodes within loadFactor x the mean share (plus one arc), where plain hashing does not', () => {
    const ring = createHashRing({ peers: thousand })
    expect(ring.vnodes).toBe(256)
    const shares = [...ring.shares().values()]
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9)
    const longestArc = ring.ranges().reduce((m, r) => Math.max(m, arcLength(r.start, r.end)), 0) / RING_SIZE
    const mean = 1 / 1000
    expect(Math.max(...shares)).toBeLessThanOrEqual(ring.loadFactor * mean + longestArc)
    expect(Math.max(...shares) / mean).toBeLessThanOrEqual(1.2) // the target
    // The same peers with independent random points alone: some peer is well past the bound.
    const plain = createHashRing({ peers: thousand, loadFactor: Infinity })
    expect(Math.max(...plain.shares().values()) / mean).toBeGreaterThan(ring.loadFactor)
  })

  it('builds the same ring from any order of the same peers, at once or a peer at a time', () => {
    const peers = thousand.slice(0, 200)
    const ring = createHashRing({ peers })
    const owners = (r: HashRing): string[] => r.ranges().map((x) => x.owner)
    const shuffled = random.fork('shuffle').shuffle([...peers])
    const incremental = createHashRing({ peers: shuffled.slice(0, 197) })
      .withPeer(shuffled[197]).withPeer(shuffled[198])
      .withPeerSet([...shuffled.slice(0, 199), 'someone', shuffled[199]])
      .withoutPeer('someone')
    for (const other of [createHashRing({ peers: shuffled }), incremental]) {
      expect(other.checksum()).toBe(ring.checksum())
      expect(owners(other)).toEqual(owners(ring))
    }
  })

  it('moves few keys on a join, nearly all of them to the joiner', () => {
    const ring = createHashRing({ peers: hundred })
    for (const joiner of joiners) {
      const { moved, toPeer } = movedSpace(ring, ring.withPeer(joiner), joiner)
      expect(moved).toBeLessThanOrEqual(0.011)
      expect(toPeer).toBeGreaterThanOrEqual(0.95 * moved)
      expect(toPeer).toBeLessThanOrEqual(ring.loadFactor / 101 + 1e-12)
    }
  })

  it('moves few keys on a leave, nearly all of them the leaver\'s', () => {
    const ring = createHashRing({ peers: hundred })
    for (const leaver of hundred.slice(0, 5)) {
      const { moved, fromPeer } = movedSpace(ring, ring.withoutPeer(leaver), leaver)
      expect(fromPeer).toBeCloseTo(ring.shares().get(leaver)!, 12)
      expect(fromPeer).toBeGreaterThanOrEqual(0.95 * moved)
    }
  })

  it('gives preference lists of distinct peers, primary first, that extend each other', () => {
    const ring = createHashRing({ peers: thousand })
    const out: string[] = []
    for (const key of KEYS.slice(0, 500)) {
      const five = ring.preferenceList('ns', key, 5)
      expect(new Set(five).size).toBe(5)
      expect(five[0]).toBe(ring.primary('ns', key))
      expect(ring.preferenceListInto('ns', key, 3, out)).toBe(3)
      expect(out).toEqual(five.slice(0, 3))
      const range = ring.rangeOf(ring.keyPoint('ns', key))!
      expect(range.owner).toBe(five[0])
    }
    // A full turn meets every peer, even those whose arcs went to others.
    const small = createHashRing({ peers: hundred, vnodes: 16, loadFactor: 1.02 })
    expect([...small.preferenceList('ns', 'k', 1000)].sort()).toEqual([...hundred].sort())
  })
})
