/**
 * A mesh of full Peers on the simulator, for tests: hosts `p1`, `p2`, … each running a Peer that joins
 * through `p1` (and `p2`) when it (re)starts. Promise calls are driven with `runUntilSettled`.
 */
import { createPeer, type Peer, type PeerInit } from '../../src/node/peer.js'
import { createRingCache } from '../../src/ring/ring-cache.js'
import { Simulator } from '../../src/sim/index.js'
import { runUntilSettled } from '../../src/sim/settle.js'

export type PeerOptions = Omit<PeerInit, 'transport' | 'clock' | 'random'>

export class PeerMesh {
  readonly sim: Simulator
  readonly peers = new Map<string, Peer>()
  readonly rings = createRingCache({ maxRings: 64 })
  readonly options: PeerOptions
  #count = 0

  constructor (seed: number, options: PeerOptions = {}) {
    this.sim = new Simulator({ seed, link: { latencyMs: 1, jitterMs: 1 } })
    this.options = options
  }

  /** Adds `count` hosts; each peer starts at once and joins through p1 and p2. */
  add (count: number, options: PeerOptions = {}): string[] {
    const added: string[] = []
    for (let k = 0; k < count; k++) {
      const address = `p${++this.#count}`
      added.push(address)
      this.sim.addHost(address, (ctx) => {
        const peer = createPeer({ ...this.options, ...options, transport: ctx.transport, clock: ctx.clock, random: ctx.random, logger: ctx.logger, ringCache: this.rings })
        this.peers.set(address, peer)
        peer.start()
        const seeds = ['p1', 'p2'].filter((s) => s !== address && this.sim.host(s) !== undefined)
        if (seeds.length > 0) void peer.join(seeds)
        return { stop: () => peer.stop() }
      })
    }
    return added
  }

  peer (address: string): Peer { return this.peers.get(address)! }

  live (): string[] { return [...this.peers.keys()].filter((a) => this.sim.isUp(a) && !this.peer(a).stopped) }

  /** Runs until every live peer routes with the same ring of exactly the live peers; ms taken or -1. */
  runUntilRingsAgree (maxMs = 60_000, stepMs = 250): number {
    const start = this.sim.now()
    for (;;) {
      const live = this.live()
      const want = this.rings.ring(live).checksum()
      if (live.every((a) => this.peer(a).ring.checksum() === want)) return this.sim.now() - start
      if (this.sim.now() - start > maxMs) return -1
      this.sim.runFor(stepMs)
    }
  }

  async settle<T> (p: Promise<T>, maxMs = 60_000): Promise<T> {
    return await runUntilSettled(this.sim, p, { maxMs })
  }
}
