/**
 * The nemesis: a schedule of fault events run against a simulation (Jepsen's nemesis, TigerBeetle's VOPR
 * fault injection). A schedule is a plain list — written by hand (`scripted`) or planned from the seed
 * (`planRandomNemesis`) — so it can be printed, stored with a report, and replayed.
 *
 * A random plan follows FoundationDB's and VOPR's two phases: between `startMs` and `endMs` faults arrive
 * as independent Poisson processes (crash → restart later, pause, partition → heal later, one-way block
 * → unblock later, clock skew); at `endMs` everything is repaired (heal, restart every crashed host, skew
 * back to 0, a `mark` named 'liveness') so the run can then check that the system converges.
 *
 * Invariants: every event applied is recorded in the trace (`nemesis` records) and in `log`; a plan never
 * has more than `maxCrashed` hosts down at once, never crashes a down host, never runs two partitions at
 * once; the plan depends only on the seed, the addresses and the options.
 */
import type { Random } from '../env/random.js'
import { InvalidOptionError } from '../errors.js'
import type { Address } from '../transport/transport.js'
import type { LinkOptions } from './network.js'
import type { Simulator } from './simulator.js'
import type { TraceFields } from './trace.js'
import { checkInteger, checkNonNegative, checkPositive } from './validate.js'

/** One fault event; `atMs` is virtual time since the simulation's start (`sim.elapsed()`). */
export type NemesisEvent =
  | { atMs: number, type: 'crash', host: Address }
  | { atMs: number, type: 'restart', host: Address }
  | { atMs: number, type: 'pause', host: Address, durationMs: number }
  | { atMs: number, type: 'skew', host: Address, skewMs: number }
  | { atMs: number, type: 'partition', groups: Address[][] }
  | { atMs: number, type: 'bridge', host: Address }
  | { atMs: number, type: 'block', from: Address, to: Address }
  | { atMs: number, type: 'unblock', from: Address, to: Address }
  | { atMs: number, type: 'heal' }
  /** Link settings: between two hosts (directed), or the defaults when `from`/`to` are omitted. */
  | { atMs: number, type: 'link', from?: Address, to?: Address, options: Partial<LinkOptions> }
  /** A named instant (e.g. 'liveness'): recorded, changes nothing. */
  | { atMs: number, type: 'mark', label: string }

export type NemesisEventType = NemesisEvent['type']

export interface NemesisLogEntry {
  /** Virtual time since the simulation's start, in ms. */
  atMs: number
  event: NemesisEvent
  /** False when the event had nothing to do (crashing a down host, pausing a down host). */
  applied: boolean
}

export interface NemesisInit {
  /** Called after each event is applied (e.g. to write a Jepsen history line with process "nemesis"). */
  onEvent?: (entry: NemesisLogEntry) => void
}

/** Runs a schedule of fault events against a simulator. */
export class Nemesis {
  readonly #sim: Simulator
  readonly #onEvent: ((entry: NemesisLogEntry) => void) | undefined
  /** Every event run so far, in order. */
  readonly log: NemesisLogEntry[] = []

  constructor (sim: Simulator, events: readonly NemesisEvent[], init: NemesisInit = {}) {
    this.#sim = sim
    this.#onEvent = init.onEvent
    const sorted = events.map((e, i) => ({ e, i })).sort((a, b) => a.e.atMs - b.e.atMs || a.i - b.i)
    for (const { e } of sorted) checkEvent(e, sim) // all or nothing: refuse before scheduling any
    for (const { e } of sorted) sim.schedule(sim.startMs + e.atMs, () => this.#apply(e))
  }

  #apply (e: NemesisEvent): void {
    const sim = this.#sim
    let applied = true
    switch (e.type) {
      case 'crash': applied = sim.isUp(e.host); sim.crash(e.host); break
      case 'restart': sim.restart(e.host); break
      case 'pause': applied = sim.isUp(e.host); sim.pause(e.host, e.durationMs); break
      case 'skew': sim.setClockSkew(e.host, e.skewMs); break
      case 'partition': sim.network.partition(e.groups); break
      case 'bridge': sim.network.bridge(e.host); break
      case 'block': sim.network.block(e.from, e.to); break
      case 'unblock': sim.network.unblock(e.from, e.to); break
      case 'heal': sim.network.heal(); break
      case 'link':
        if (e.from !== undefined && e.to !== undefined) sim.network.setLink(e.from, e.to, e.options)
        else sim.network.setDefaults(e.options)
        break
      case 'mark': break
    }
    sim.trace.record('nemesis', { ...eventFields(e), applied })
    const entry: NemesisLogEntry = { atMs: sim.elapsed(), event: e, applied }
    this.log.push(entry)
    this.#onEvent?.(entry)
  }
}

/** Schedules a hand-written list of events (times since the simulation's start). */
export function scripted (sim: Simulator, events: readonly NemesisEvent[], init?: NemesisInit): Nemesis {
  return new Nemesis(sim, events, init)
}

/** The flat fields of an event, for trace records and reports. */
export function eventFields (e: NemesisEvent): TraceFields {
  switch (e.type) {
    case 'crash':
    case 'restart':
    case 'bridge':
      return { type: e.type, host: e.host }
    case 'pause': return { type: e.type, host: e.host, durationMs: e.durationMs }
    case 'skew': return { type: e.type, host: e.host, skewMs: e.skewMs }
    case 'partition': return { type: e.type, groups: e.groups.map((g) => g.join(',')).join('|') }
    case 'block':
    case 'unblock':
      return { type: e.type, from: e.from, to: e.to }
    case 'heal': return { type: e.type }
    case 'link': {
      const f: TraceFields = { type: e.type }
      if (e.from !== undefined) f.from = e.from
      if (e.to !== undefined) f.to = e.to
      for (const [k, v] of Object.entries(e.options)) if (v !== undefined) f[k] = v
      return f
    }
    case 'mark': return { type: e.type, label: e.label }
  }
}

/** A one-line human description of an event, e.g. `pause p0003 for 2500 ms`. */
export function describeEvent (e: NemesisEvent): string {
  switch (e.type) {
    case 'crash': return `crash ${e.host}`
    case 'restart': return `restart ${e.host}`
    case 'pause': return `pause ${e.host} for ${e.durationMs} ms`
    case 'skew': return `skew ${e.host}'s clock by ${e.skewMs} ms`
    case 'partition': return `partition ${e.groups.map((g) => g.length <= 4 ? g.join(',') : `${g.length} hosts`).join(' | ')}`
    case 'bridge': return `bridge ${e.host}`
    case 'block': return `block ${e.from} -> ${e.to}`
    case 'unblock': return `unblock ${e.from} -> ${e.to}`
    case 'heal': return 'heal the network'
    case 'link': return `link ${e.from ?? '*'} -> ${e.to ?? '*'} ${JSON.stringify(e.options)}`
    case 'mark': return `mark ${e.label}`
  }
}

function checkEvent (e: NemesisEvent, sim: Simulator): void {
  if (e === null || typeof e !== 'object') throw new InvalidOptionError('nemesis: every event must be an object like { atMs: 1000, type: \'crash\', host: \'p0001\' }')
  checkNonNegative(`nemesis ${String(e.type)} event: atMs`, e.atMs)
  if (sim.startMs + e.atMs < sim.now()) {
    throw new InvalidOptionError(`nemesis ${e.type} event at ${e.atMs} ms is in the past (the simulation is at ${sim.elapsed()} ms); times are since the simulation's start`)
  }
  switch (e.type) {
    case 'pause': checkPositive('nemesis pause event: durationMs', e.durationMs); break
    case 'skew':
      if (!Number.isFinite(e.skewMs)) throw new InvalidOptionError(`nemesis skew event: skewMs must be a finite number, got ${e.skewMs}`)
      break
    case 'partition':
      if (!Array.isArray(e.groups) || !e.groups.every((g) => Array.isArray(g))) {
        throw new InvalidOptionError('nemesis partition event: groups must be a list of address lists, e.g. [[\'p1\', \'p2\'], [\'p3\']]')
      }
      break
    case 'crash': case 'restart': case 'bridge': case 'block': case 'unblock': case 'heal': case 'link': case 'mark':
      break
    default:
      throw new InvalidOptionError(`nemesis: unknown event type '${String((e as { type: unknown }).type)}'; use crash, restart, pause, skew, partition, bridge, block, unblock, heal, link or mark`)
  }
}

export interface RandomNemesisInit {
  /** When faults may start, in ms since the simulation's start. @default 0 */
  startMs?: number
  /** When faults stop and everything is repaired (the liveness phase starts), in ms since the start. @default 60_000 */
  endMs?: number
  /** Mean host crashes per minute across the mesh. @default 1 */
  crashesPerMinute?: number
  /** Mean delay before a crashed host restarts, in ms (each drawn uniformly in [0.5×, 1.5×]). @default 10_000 */
  restartAfterMs?: number
  /** Hosts down at once, at most. @default floor((hosts - 1) / 2), a minority */
  maxCrashed?: number
  /** Mean event-loop pauses per minute across the mesh. @default 2 */
  pausesPerMinute?: number
  /** Mean pause length, in ms (uniform in [0.5×, 1.5×]). @default 3_000 */
  pauseMs?: number
  /** Mean partitions per minute (one at a time: a partition due during another is skipped). @default 0.5 */
  partitionsPerMinute?: number
  /** Mean partition length, in ms (uniform in [0.5×, 1.5×]). @default 20_000 */
  partitionMs?: number
  /** Mean one-way link blocks per minute. @default 0 */
  blocksPerMinute?: number
  /** Mean block length, in ms (uniform in [0.5×, 1.5×]). @default 10_000 */
  blockMs?: number
  /** Mean clock-skew changes per minute. @default 0 */
  skewsPerMinute?: number
  /** Skews are uniform in [-maxSkewMs, +maxSkewMs]. @default 1_000 */
  maxSkewMs?: number
}

interface Arrival { atMs: number, kind: number, order: number }

const K_CRASH = 0
const K_PAUSE = 1
const K_PARTITION = 2
const K_BLOCK = 3
const K_SKEW = 4

/**
 * Plans a random fault schedule for `hosts` from `random` (use `sim.random.fork('nemesis')`). The result
 * is an ordinary event list: run it with `scripted(sim, events)`, print it, store it.
 */
export function planRandomNemesis (hosts: readonly Address[], random: Random, init: RandomNemesisInit = {}): NemesisEvent[] {
  const n = hosts.length
  if (n === 0) throw new InvalidOptionError('planRandomNemesis: there are no hosts to break; add hosts first')
  const startMs = checkNonNegative('RandomNemesisInit.startMs', init.startMs ?? 0)
  const endMs = checkNonNegative('RandomNemesisInit.endMs', init.endMs ?? 60_000)
  if (endMs < startMs) throw new InvalidOptionError(`RandomNemesisInit.endMs (${endMs}) must be >= startMs (${startMs})`)
  const rate = (name: string, v: number | undefined, d: number): number => checkNonNegative(`RandomNemesisInit.${name}`, v ?? d)
  const rates = [
    rate('crashesPerMinute', init.crashesPerMinute, 1),
    rate('pausesPerMinute', init.pausesPerMinute, 2),
    rate('partitionsPerMinute', init.partitionsPerMinute, 0.5),
    rate('blocksPerMinute', init.blocksPerMinute, 0),
    rate('skewsPerMinute', init.skewsPerMinute, 0)
  ]
  const restartAfterMs = checkPositive('RandomNemesisInit.restartAfterMs', init.restartAfterMs ?? 10_000)
  const maxCrashed = checkInteger('RandomNemesisInit.maxCrashed', init.maxCrashed ?? Math.floor((n - 1) / 2), 0)
  const pauseMs = checkPositive('RandomNemesisInit.pauseMs', init.pauseMs ?? 3_000)
  const partitionMs = checkPositive('RandomNemesisInit.partitionMs', init.partitionMs ?? 20_000)
  const blockMs = checkPositive('RandomNemesisInit.blockMs', init.blockMs ?? 10_000)
  const maxSkewMs = checkNonNegative('RandomNemesisInit.maxSkewMs', init.maxSkewMs ?? 1_000)

  // Independent Poisson arrivals per fault kind, each from its own fork so changing one rate leaves the
  // other kinds' times alone.
  const arrivals: Arrival[] = []
  rates.forEach((perMinute, kind) => {
    if (perMinute <= 0) return
    const r = random.fork('arrivals:' + kind)
    let t = startMs
    for (;;) {
      t += -Math.log(1 - r.next()) * 60_000 / perMinute
      if (t >= endMs) break
      arrivals.push({ atMs: round(t), kind, order: arrivals.length })
    }
  })
  arrivals.sort((a, b) => a.atMs - b.atMs || a.order - b.order)

  const pick = random.fork('targets')
  const spread = (mean: number): number => round(mean * (0.5 + pick.next()))
  const events: NemesisEvent[] = []
  const downUntil = new Map<Address, number>()
  const skewed = new Set<Address>()
  let partitionUntil = -1
  const upAt = (t: number): Address[] => hosts.filter((h) => (downUntil.get(h) ?? -1) <= t)

  for (const a of arrivals) {
    const t = a.atMs
    for (const [h, until] of downUntil) if (until <= t) downUntil.delete(h)
    switch (a.kind) {
      case K_CRASH: {
        if (downUntil.size >= maxCrashed) break
        const host = pick.pick(upAt(t))
        if (host === undefined) break
        const back = t + spread(restartAfterMs)
        events.push({ atMs: t, type: 'crash', host })
        if (back < endMs) {
          events.push({ atMs: back, type: 'restart', host })
          downUntil.set(host, back)
        } else {
          downUntil.set(host, Infinity)
        }
        break
      }
      case K_PAUSE: {
        const host = pick.pick(upAt(t))
        if (host !== undefined) events.push({ atMs: t, type: 'pause', host, durationMs: spread(pauseMs) })
        break
      }
      case K_PARTITION: {
        if (t < partitionUntil || n < 2) break
        const shuffled = pick.shuffle(hosts.slice())
        const shape = pick.int(3)
        const until = Math.min(t + spread(partitionMs), endMs)
        if (shape === 0) {
          // a random split: a minority side of 1..floor(n/2) hosts
          const k = 1 + pick.int(Math.floor(n / 2))
          events.push({ atMs: t, type: 'partition', groups: [shuffled.slice(0, k), shuffled.slice(k)] })
        } else if (shape === 1) {
          // one host isolated from everyone
          events.push({ atMs: t, type: 'partition', groups: [[shuffled[0]], shuffled.slice(1)] })
        } else {
          // two halves and a bridge host that sees both (needs 3 hosts)
          if (n < 3) break
          const half = Math.floor((n - 1) / 2)
          events.push({ atMs: t, type: 'partition', groups: [shuffled.slice(1, 1 + half), shuffled.slice(1 + half)] })
          events.push({ atMs: t, type: 'bridge', host: shuffled[0] })
        }
        if (until < endMs) events.push({ atMs: until, type: 'heal' })
        partitionUntil = until
        break
      }
      case K_BLOCK: {
        if (n < 2) break
        const from = pick.pick(hosts)!
        let to = pick.pick(hosts)!
        if (to === from) to = hosts[(hosts.indexOf(from) + 1) % n]
        const until = t + spread(blockMs)
        events.push({ atMs: t, type: 'block', from, to })
        if (until < endMs) events.push({ atMs: until, type: 'unblock', from, to })
        break
      }
      case K_SKEW: {
        const host = pick.pick(hosts)!
        events.push({ atMs: t, type: 'skew', host, skewMs: round((pick.next() * 2 - 1) * maxSkewMs) })
        skewed.add(host)
        break
      }
    }
  }

  // Liveness phase: repair everything at endMs.
  events.push({ atMs: endMs, type: 'heal' })
  for (const [host, until] of downUntil) if (until >= endMs) events.push({ atMs: endMs, type: 'restart', host })
  for (const host of hosts) if (skewed.has(host)) events.push({ atMs: endMs, type: 'skew', host, skewMs: 0 })
  events.push({ atMs: endMs, type: 'mark', label: 'liveness' })
  return events.map((e, i) => ({ e, i })).sort((a, b) => a.e.atMs - b.e.atMs || a.i - b.i).map((x) => x.e)
}

/** Plans a random schedule from the simulator's seed (`sim.random.fork('nemesis')`) and runs it. */
export function randomNemesis (sim: Simulator, init: RandomNemesisInit = {}, nemesisInit?: NemesisInit): Nemesis {
  const events = planRandomNemesis(sim.addresses(), sim.random.fork('nemesis'), init)
  return new Nemesis(sim, events, nemesisInit)
}

function round (ms: number): number {
  return Math.round(ms)
}
