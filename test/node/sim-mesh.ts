/**
 * A membership mesh on the simulator, for tests: hosts `n1`, `n2`, … each running a MembershipNode that
 * joins through `n1` when it (re)starts. Records every member event with the host that saw it.
 */
import type { Logger } from '../../src/env/logger.js'
import type { MemberEvent } from '../../src/membership/types.js'
import { MembershipNode } from '../../src/node/membership-node.js'
import type { MembershipNodeInit } from '../../src/node/membership-node.js'
import { Simulator } from '../../src/sim/index.js'

export type NodeOptions = Omit<MembershipNodeInit, 'transport' | 'clock' | 'random'>

export interface SeenEvent { at: string, e: MemberEvent }

export class SimMesh {
  readonly sim: Simulator
  readonly nodes = new Map<string, MembershipNode>()
  readonly events: SeenEvent[] = []
  readonly options: NodeOptions
  #count = 0

  constructor (seed: number, options: NodeOptions = {}, logger?: Logger) {
    this.sim = new Simulator({ seed, link: { latencyMs: 1, jitterMs: 1 }, logger })
    this.options = options
  }

  static address (i: number): string { return `n${i}` }

  /** Adds `count` hosts; each node starts at once and joins through n1 (n1 itself only starts). */
  add (count: number, options: NodeOptions = {}): string[] {
    const added: string[] = []
    for (let k = 0; k < count; k++) {
      const address = SimMesh.address(++this.#count)
      added.push(address)
      this.sim.addHost(address, (ctx) => {
        const node = new MembershipNode({ ...this.options, ...options, transport: ctx.transport, clock: ctx.clock, random: ctx.random, logger: ctx.logger })
        this.nodes.set(address, node)
        node.onEvent((e) => this.events.push({ at: address, e }))
        if (address === 'n1') node.start()
        else void node.join(['n1'])
        return { stop: () => node.stop() }
      })
    }
    return added
  }

  node (address: string): MembershipNode { return this.nodes.get(address)! }

  /** Live hosts' views: the set of alive/suspect members of each. */
  liveAddresses (): string[] { return [...this.nodes.keys()].filter((a) => this.sim.isUp(a) && !this.node(a).stopped) }

  /** Runs until every live node sees exactly the live hosts alive and all checksums agree; returns ms taken, or -1. */
  runUntilConverged (maxMs: number, stepMs = 500): number {
    const start = this.sim.now()
    while (this.sim.now() - start <= maxMs) {
      if (this.converged()) return this.sim.now() - start
      this.sim.runFor(stepMs)
    }
    return -1
  }

  converged (): boolean {
    const live = this.liveAddresses()
    const sums = new Set(live.map((a) => this.node(a).checksum()))
    if (sums.size !== 1) return false
    const want = [...live].sort().join(',')
    return live.every((a) => this.node(a).members().filter((m) => m.state === 'alive').map((m) => m.id).sort().join(',') === want)
  }

  eventsOf (type: MemberEvent['type'], about?: string): SeenEvent[] {
    return this.events.filter(({ e }) => e.type === type && (about === undefined || e.member.id === about))
  }
}
