/**
 * The deterministic simulator, shipped as part of the library so users can test their own apps on it:
 * virtual time, a simulated network implementing `Transport`, host and network faults, a nemesis, a
 * hashed trace, and helpers for reports (percentiles, SVG timelines, option checks).
 *
 * ```ts
 * const sim = new Simulator({ seed: 42, link: { latencyMs: 2, jitterMs: 3, loss: 0.01 } })
 * for (const address of ['p1', 'p2', 'p3']) {
 *   sim.addHost(address, ({ transport, clock, random }) => {
 *     const app = startMyApp({ transport, clock, random })   // your code, on the injected seams
 *     return { stop: () => app.stop() }
 *   })
 * }
 * randomNemesis(sim, { endMs: 60_000 })   // faults for 60 s, then everything is repaired
 * sim.runFor(120_000)                    // 2 virtual minutes, as fast as the CPU allows
 * console.log(sim.seed, sim.trace.hash()) // the same seed gives the same hash
 * ```
 */
export { Simulator } from './simulator.js'
export type { SimulatorInit, HostContext, HostProcess, HostStart, HostStats } from './simulator.js'
export { SimNetwork, DEFAULT_LINK } from './network.js'
export type { LinkOptions, NetworkStats } from './network.js'
export { SimTransport } from './sim-transport.js'
export { Trace, Fnv1a64, fnv1a64, formatTraceRecord } from './trace.js'
export type { TraceRecord, TraceFields, TraceValue, TraceInit } from './trace.js'
export {
  checkProbability, checkNonNegative, checkPositive, checkInteger, checkPeers, checkDuration, checkSeed,
  parseNumber, parseSeed, parsePeers, parseProbability, parseDuration
} from './validate.js'
export { Nemesis, scripted, planRandomNemesis, randomNemesis, describeEvent, eventFields } from './nemesis.js'
export type { NemesisEvent, NemesisEventType, NemesisLogEntry, NemesisInit, RandomNemesisInit } from './nemesis.js'
export { percentile, summarize } from './stats.js'
export type { Summary } from './stats.js'
export { renderTimeline, niceTicks, escapeXml } from './svg.js'
export type { TimelineInit, TimelineSeries, TimelineEvent, TimelineSpan } from './svg.js'
export { runSyntheticLoad } from './load.js'
export type { SyntheticLoadInit, SyntheticLoadResult } from './load.js'
export { History } from './history.js'
export type { HistoryEvent, HistoryType, HistoryF } from './history.js'
export { runUntilSettled } from './settle.js'
export type { SettleOptions } from './settle.js'
