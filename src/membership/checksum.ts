/**
 * The membership checksum: a hash of the set of (id, incarnation, state) triples of a view, so two peers
 * can tell in 16 hex characters whether they agree (the convergence check after a partition heals).
 *
 * It is the sum, per 32-bit lane, of a strong hash of each triple. A sum over a set is what a hash of
 * the sorted list is for our purpose — independent of order — and it updates in O(1) when one member
 * changes (subtract the old triple, add the new), so `checksum()` is free to call every second on
 * 10,000 simulated peers. Two lanes (64 bits) keep accidental collisions out of reach.
 */
import type { MemberState } from '../wire/membership.js'

const STATE_SALT: Record<MemberState, number> = { alive: 0x9e3779b9, suspect: 0x7f4a7c15, dead: 0x94d049bb, left: 0xbf58476d }

function mix32 (h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Two independent 32-bit hashes of one (id, incarnation, state) triple. */
export function memberTripleHash (id: string, incarnation: number, state: MemberState): [number, number] {
  let a = 0x811c9dc5
  let b = 0x01000193 ^ STATE_SALT[state]
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15)
  }
  const lo = incarnation >>> 0
  const hi = Math.floor(incarnation / 4294967296) >>> 0
  a = mix32(a ^ mix32(lo ^ STATE_SALT[state]) ^ Math.imul(hi, 0x27d4eb2f))
  b = mix32(b ^ mix32(lo + 0x165667b1) ^ mix32(hi ^ 0x9e3779b9))
  return [a, b]
}

/** An order-independent checksum of a membership view, updated one member at a time. */
export class MembershipChecksum {
  #a = 0
  #b = 0

  add (id: string, incarnation: number, state: MemberState): void {
    const [a, b] = memberTripleHash(id, incarnation, state)
    this.#a = (this.#a + a) >>> 0
    this.#b = (this.#b + b) >>> 0
  }

  remove (id: string, incarnation: number, state: MemberState): void {
    const [a, b] = memberTripleHash(id, incarnation, state)
    this.#a = (this.#a - a) >>> 0
    this.#b = (this.#b - b) >>> 0
  }

  /** The first 32-bit lane (what pings and acks carry to compare views cheaply). */
  get lane (): number { return this.#a }

  /** 16 lowercase hex characters. */
  toString (): string {
    return this.#a.toString(16).padStart(8, '0') + this.#b.toString(16).padStart(8, '0')
  }
}

/** The checksum of a whole view, computed from scratch (for tests and one-off checks). */
export function membershipChecksum (members: Iterable<{ id: string, incarnation: number, state: MemberState }>): string {
  const c = new MembershipChecksum()
  for (const m of members) c.add(m.id, m.incarnation, m.state)
  return c.toString()
}
