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
