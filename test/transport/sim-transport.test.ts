import { describe, expect, it } from 'vitest'
import { Simulator } from '../../src/sim/index.js'
import type { Transport } from '../../src/transport/transport.js'
import { transportCompliance } from './compliance.js'
import type { TransportHarness } from './compliance.js'

function simHarness (init: { latencyMs: number, jitterMs: number }): TransportHarness {
  const sim = new Simulator({ seed: 1, link: init })
  let n = 0
  return {
    roundTripMs: 2 * (init.latencyMs + init.jitterMs) + 1,
    async create (): Promise<Transport> {
      let transport: Transport | undefined
      sim.addHost(`t${++n}`, (ctx) => {
        transport = ctx.transport
        return { stop () { ctx.transport.close() } }
      })
      return transport!
    },
    async settle (ms: number): Promise<void> { sim.runFor(ms) },
    unreachableAddress: () => 'nowhere',
    async dispose (): Promise<void> { sim.shutdown() }
  }
}

transportCompliance('simulated network (1 ms links)', () => simHarness({ latencyMs: 1, jitterMs: 0 }))
transportCompliance('simulated network (20 ms + 30 ms jitter)', () => simHarness({ latencyMs: 20, jitterMs: 30 }))

describe('SimTransport specifics', () => {
  it('refuses a request to a crashed host after one round trip, and times out across a partition', () => {
    const sim = new Simulator({ seed: 3, link: { latencyMs: 10 } })
    const ts: Transport[] = []
    for (const a of ['a', 'b', 'c']) {
      sim.addHost(a, (ctx) => { ts.push(ctx.transport); ctx.transport.setHandlers({ onMessage () {}, onRequest (_f, p, r) { r(p) } }); return { stop () {} } })
    }
    sim.crash('b')
    sim.network.partition([['a', 'b'], ['c']])
    const seen: Array<[string, number]> = []
    ts[0].request('b', new Uint8Array(1), 1000, (err) => seen.push([err!.reason, sim.elapsed()]))
    ts[0].request('c', new Uint8Array(1), 1000, (err) => seen.push([err!.reason, sim.elapsed()]))
    sim.runFor(2000)
    expect(seen).toEqual([['unreachable', 20], ['timeout', 1000]])
  })
})
