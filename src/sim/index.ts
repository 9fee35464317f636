/**
 * The deterministic simulator, shipped as part of the library so users can test their own apps on it:
 * virtual time, a simulated network implementing `Transport`, host and network faults, a nemesis, a
 * hashed trace, and helpers for reports (percentiles, SVG timelines, option checks).
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
