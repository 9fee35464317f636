import { describe, expect, it } from 'vitest'
import { Fnv1a64, Trace, fnv1a64, formatTraceRecord } from '../../src/sim/index.js'

describe('FNV-1a 64', () => {
  it('matches the reference test vectors', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325')
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c')
    expect(fnv1a64('foobar')).toBe('85944171f73967e8')
  })

  it('hashes strings as UTF-8, the same as their bytes', () => {
    const h = new Fnv1a64()
    h.bytes(new TextEncoder().encode('héllo ✓'))
    expect(fnv1a64('héllo ✓')).toBe(h.hex())
  })
})

describe('Trace', () => {
  it('hashes canonical lines, so the same records give the same hash and any change shows', () => {
    let t = 0
    const make = (): Trace => new Trace({ now: () => t, keep: 10 })
    const a = make()
    const b = make()
    a.record('crash', { host: 'p1' }); b.record('crash', { host: 'p1' })
    t = 5
    a.record('heal'); b.record('heal')
    expect(a.hash()).toBe(b.hash())
    expect(a.lines()).toEqual(['0 crash host=p1', '5 heal'])
    b.record('x')
    expect(b.hash()).not.toBe(a.hash())
    const c = new Trace({ now: () => 0 })
    c.record('crash', { host: 'p2' })
    const d = new Trace({ now: () => 0 })
    d.record('crash', { host: 'p1' })
    expect(c.hash()).not.toBe(d.hash())
  })

  it('hashes message deliveries including their bytes', () => {
    const a = new Trace({ now: () => 1 })
    const b = new Trace({ now: () => 1 })
    a.recordDelivery('deliver', 'p1', 'p2', Uint8Array.of(1, 2, 3))
    b.recordDelivery('deliver', 'p1', 'p2', Uint8Array.of(1, 2, 4))
    expect(a.hash()).not.toBe(b.hash())
  })

  it('formats fields in the order given', () => {
    expect(formatTraceRecord(12.5, 'pause', { host: 'p3', ms: 100, ok: true })).toBe('12.5 pause host=p3 ms=100 ok=true')
  })

  it('refuses a negative record bound', () => {
    expect(() => new Trace({ now: () => 0, keep: -1 })).toThrow(/keep must be an integer >= 0/)
  })
})
