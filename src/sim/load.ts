/**
 * A synthetic load for measuring the simulator kernel itself: `hosts` processes, each sending one
 * best-effort message of `payloadBytes` to a random other host every `intervalMs` of virtual time (the
 * shape of SWIM's probe traffic: one timer and a few messages per host per period). Used by the kernel
 * benchmark (test/sim/kernel-bench.ts) and, at a small scale, as a sanity test. It measures nothing by
 * itself: the caller times it.
 */
import { Simulator } from './simulator.js'
import type { SimulatorInit } from './simulator.js'
import type { NetworkStats } from './network.js'
import { checkPeers, checkPositive, checkInteger } from './validate.js'

export interface SyntheticLoadInit {
  /** Number of hosts. @default 1000 */
  hosts?: number
  /** Virtual time to run, in ms. @default 60_000 */
  durationMs?: number
  /** Each host sends one message every this many ms of virtual time. @default 100 */
  intervalMs?: number
  /** Size of each message, in bytes. @default 100 */
  payloadBytes?: number
  /** Passed to the Simulator (seed, link, traceMessages, ...). @default { seed: 1 } */
  sim?: SimulatorInit
}

export interface SyntheticLoadResult {
  hosts: number
  virtualMs: number
  /** Events the kernel ran (timers + deliveries). */
  events: number
  /** Messages received by the hosts' handlers. */
  received: number
  stats: NetworkStats
  traceHash: string
}

export function runSyntheticLoad (init: SyntheticLoadInit = {}): SyntheticLoadResult {
  const hosts = checkPeers(init.hosts ?? 1000, 'hosts')
  const durationMs = checkPositive('durationMs', init.durationMs ?? 60_000)
  const intervalMs = checkPositive('intervalMs', init.intervalMs ?? 100)
  const payloadBytes = checkInteger('payloadBytes', init.payloadBytes ?? 100, 0)
  const sim = new Simulator(init.sim ?? { seed: 1 })
  const addresses: string[] = []
  for (let i = 0; i < hosts; i++) addresses.push('p' + String(i).padStart(5, '0'))
  let received = 0
  addresses.forEach((address, self) => {
    sim.addHost(address, ({ transport, clock, random }) => {
      const payload = new Uint8Array(payloadBytes)
      let stopped = false
      transport.setHandlers({
        onMessage () { received++ },
        onRequest (_from, p, respond) { respond(p) }
      })
      const tick = (): void => {
        if (stopped) return
        if (hosts > 1) {
          let to = random.int(hosts - 1)
          if (to >= self) to++
          transport.send(addresses[to], payload)
        }
        clock.setTimer(intervalMs, tick)
      }
      // spread the first ticks over one interval so hosts do not fire in lockstep
      clock.setTimer(random.next() * intervalMs, tick)
      return { stop () { stopped = true; transport.close() } }
    })
  })
  const before = sim.eventsRun
  sim.runFor(durationMs)
  return {
    hosts,
    virtualMs: durationMs,
    events: sim.eventsRun - before,
    received,
    stats: sim.network.stats(),
    traceHash: sim.trace.hash()
  }
}
