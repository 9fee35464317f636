/**
 * Three SWIM + Lifeguard peers on the deterministic simulator: they join, one crashes, the others see it
 * suspected and then declared dead. Run: `npm run build && node dist/examples/simulate-membership.js`.
 */
import { MembershipNode, Simulator } from '../src/index.js'

const sim = new Simulator({ seed: 42, link: { latencyMs: 1, loss: 0.01 } })
for (const address of ['p1', 'p2', 'p3']) {
  sim.addHost(address, (ctx) => {
    const node = new MembershipNode({ transport: ctx.transport, clock: ctx.clock, random: ctx.random, preset: 'lan' })
    node.onEvent((e) => {
      console.log(`${((sim.now() - sim.startMs) / 1000).toFixed(3)}s ${address}: ${e.member.id} ${e.type} (${e.reason})`)
    })
    node.start()
    if (address !== 'p1') void node.join(['p1'])
    return { stop: () => { node.stop() } }
  })
}
sim.runFor(30_000)
console.log('-- crash p3 --')
sim.crash('p3')
sim.runFor(30_000)
sim.shutdown()
