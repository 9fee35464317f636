/**
 * A deterministic discrete-event simulator for whole meshes, in the spirit of TigerBeetle's VOPR and
 * FoundationDB's simulation: one seed drives every subsystem (`random.fork('net')`, `fork('nemesis')`,
 * `fork('host:' + address + ':' + restarts)`), time is virtual, and every event — host timers, message
 * deliveries, request replies, faults — runs synchronously from one queue ordered by (time, sequence).
 * A run is therefore a pure function of its seed and its script: the same seed replays exactly, and the
 * trace hash proves it.
 *
 * Host faults:
 * - `crash`: the process is stopped and lost; its timers, pending requests and in-flight inbound
 *   messages vanish (void by epoch, O(1)). Messages it already sent are on the wire and still arrive.
 * - `restart`: a fresh process (new transport, clock, random) via the host's `start` function.
 * - `pause`: the event loop stalls (a GC pause, a blocked Node event loop — the fault behind Lifeguard):
 *   timers and deliveries that fall due wait and then run late, in their original order, when the pause
 *   ends; best-effort inbound messages queue up to `pausedInboxLimit`, beyond which they are dropped
 *   (a full socket buffer). Inbound requests and replies queue without a limit of their own, as a stream
 *   holds them back in the sender: they are bounded by what the requesters keep in flight.
 * - `setClockSkew`: the host's `clock.now()` reads true time + skew (timer delays are unaffected).
 *
 * Invariants: virtual time never goes backwards; events at the same instant run in scheduling order;
 * nothing here reads the wall clock or Math.random.
 */
import type { Clock, TimerHandle } from '../env/clock.js'
import { silentLogger } from '../env/logger.js'
import type { Logger } from '../env/logger.js'
import { SeededRandom } from '../env/random.js'
import type { Random } from '../env/random.js'
import { InvalidOptionError, invariant } from '../errors.js'
import type { Address, Transport } from '../transport/transport.js'
import {
  EV_MESSAGE, EV_RESUME, EV_SIM, EV_TIMER, EventQueue, SimEvent
} from './event-queue.js'
import { SimHost } from './host.js'
import type { HostProcess, HostStats } from './host.js'
import { SimNetwork } from './network.js'
import type { LinkOptions, SimKernel } from './network.js'
import { SimTransport } from './sim-transport.js'
import { Trace } from './trace.js'
import { checkInteger, checkNonNegative, checkPositive, checkSeed } from './validate.js'

export type { HostProcess, HostStats }

export interface SimulatorInit {
  /** The one seed that drives everything: an integer in [0, 2^32). */
  seed: number
  /** Virtual epoch: the true time when the simulation starts, in ms. @default 1_700_000_000_000 */
  startMs?: number
  /**
   * Keep trace records in memory: `true` keeps the newest 10,000, a number keeps that many, `false` none.
   * The trace hash covers every record either way. @default false
   */
  trace?: boolean | number
  /** Also hash (and keep, if `trace`) every message, request and reply delivery. @default false */
  traceMessages?: boolean
  /** Initial default link settings. @default latencyMs 1, jitterMs 0, loss 0, duplicate 0, reorder 0 */
  link?: Partial<LinkOptions>
  /** Largest best-effort payload, in bytes (a UDP datagram on a 1500-byte MTU). @default 1400 */
  maxDatagramBytes?: number
  /** Largest request or reply payload, in bytes. @default 4 MiB */
  maxRequestBytes?: number
  /** Best-effort messages queued per paused host before further ones are dropped. @default 1024 */
  pausedInboxLimit?: number
  /** Where the simulator and the hosts log (hosts get `logger.child({ host })`). @default silentLogger */
  logger?: Logger
}

/** What a process running on a simulated host gets. */
export interface HostContext {
  /** This host's address, e.g. 'p0001'. */
  address: Address
  /** This process's view of the simulated network. */
  transport: Transport
  /** This host's clock: skewed `now()`, timers that stall while the host is paused. */
  clock: Clock
  /** `sim.random.fork('host:' + address + ':' + restarts)`: a fresh stream per process lifetime. */
  random: Random
  logger: Logger
  /** How many times this host was restarted before this process (0 for the first). */
  restarts: number
}

export type HostStart = (ctx: HostContext) => HostProcess

const DEFAULT_START_MS = 1_700_000_000_000
const DEFAULT_KEPT_RECORDS = 10_000

/** A host's clock, bound to one process lifetime: timers of a crashed process never fire. */
class HostClock implements Clock {
  readonly #sim: Simulator
  readonly #host: SimHost
  readonly #epoch: number

  constructor (sim: Simulator, host: SimHost, epoch: number) {
    this.#sim = sim
    this.#host = host
    this.#epoch = epoch
  }

  now (): number { return this.#sim.now() + this.#host.skewMs }

  setTimer (delayMs: number, fn: () => void): TimerHandle {
    const ev = new SimEvent(this.#sim.now() + (delayMs > 0 ? delayMs : 0), EV_TIMER, this.#host, this.#epoch)
    ev.fn = fn
    if (this.#host.epoch === this.#epoch) this.#sim.push(ev)
    return ev
  }

  clearTimer (handle: TimerHandle): void {
    if (handle instanceof SimEvent && handle.host === this.#host) handle.cancelled = true
  }
}

export class Simulator implements SimKernel {
  readonly seed: number
  readonly random: Random
  readonly network: SimNetwork
  readonly trace: Trace
  readonly traceMessages: boolean
  readonly startMs: number
  readonly logger: Logger
  readonly #queue = new EventQueue()
  readonly #hosts = new Map<Address, SimHost>()
  readonly #order: SimHost[] = []
  readonly #starts = new Map<SimHost, HostStart>()
  readonly #maxDatagramBytes: number
  readonly #maxRequestBytes: number
  #now: number
  #running = false
  #events = 0

  constructor (init: SimulatorInit) {
    if (init === null || typeof init !== 'object') throw new InvalidOptionError('Simulator needs an init object, e.g. new Simulator({ seed: 1 })')
    this.seed = checkSeed(init.seed, 'SimulatorInit.seed')
    this.startMs = init.startMs === undefined ? DEFAULT_START_MS : checkNonNegative('SimulatorInit.startMs', init.startMs)
    this.#now = this.startMs
    const keep = init.trace === true ? DEFAULT_KEPT_RECORDS : init.trace === false || init.trace === undefined ? 0 : checkInteger('SimulatorInit.trace', init.trace, 0)
    this.trace = new Trace({ now: () => this.#now, keep })
    this.traceMessages = init.traceMessages ?? false
    this.#maxDatagramBytes = init.maxDatagramBytes === undefined ? 1400 : checkInteger('SimulatorInit.maxDatagramBytes', init.maxDatagramBytes, 1)
    this.#maxRequestBytes = init.maxRequestBytes === undefined ? 4 * 1024 * 1024 : checkInteger('SimulatorInit.maxRequestBytes', init.maxRequestBytes, 1)
    const pausedInboxLimit = init.pausedInboxLimit === undefined ? 1024 : checkInteger('SimulatorInit.pausedInboxLimit', init.pausedInboxLimit, 0)
    this.logger = init.logger ?? silentLogger
    this.random = new SeededRandom(this.seed)
    this.network = new SimNetwork(this, this.random.fork('net'), { defaults: init.link, pausedInboxLimit })
    // The seed itself is not hashed: two seeds must give different traces by behaving differently.
    this.trace.record('sim-start', {})
  }

  /** True virtual time, in ms. */
  now (): number { return this.#now }

  /** Virtual time elapsed since the start, in ms. */
  elapsed (): number { return this.#now - this.startMs }

  /** How many events have run so far (skipped, void and cancelled ones excluded). */
  get eventsRun (): number { return this.#events }

  /** Events waiting in the queue (cancelled ones included until they surface). */
  get eventsPending (): number { return this.#queue.size }

  /** @internal */
  push (ev: SimEvent): void { this.#queue.push(ev) }

  /** @internal */
  host (address: Address): SimHost | undefined { return this.#hosts.get(address) }

  /** Every host's address, in the order they were added. */
  addresses (): Address[] { return this.#order.map((h) => h.address) }

  /** Adds a host and starts its process now; `start` is called again by `restart`. */
  addHost (address: Address, start: HostStart): void {
    if (typeof address !== 'string' || address.length === 0) throw new InvalidOptionError(`addHost: address must be a non-empty string, got ${String(address)}`)
    if (this.#hosts.has(address)) throw new InvalidOptionError(`addHost: a host named ${address} already exists; addresses must be unique`)
    if (typeof start !== 'function') throw new InvalidOptionError(`addHost(${address}): start must be a function (ctx) => HostProcess`)
    const host = new SimHost(address, this.#order.length)
    this.#hosts.set(address, host)
    this.#order.push(host)
    this.#starts.set(host, start)
    this.trace.record('add-host', { host: address })
    this.#start(host)
  }

  isUp (address: Address): boolean { return this.#get(address, 'isUp').up }

  isPaused (address: Address): boolean { return this.#get(address, 'isPaused').paused }

  /** How many times `address` has been restarted. */
  restarts (address: Address): number { return this.#get(address, 'restarts').restarts }

  /** Crashes the host's process: stopped, state lost, timers and inbound in-flight messages void. No-op if down. */
  crash (address: Address): void {
    const host = this.#get(address, 'crash')
    if (!host.up) return
    this.trace.record('crash', { host: address })
    this.#kill(host)
  }

  /** Starts a fresh process on the host (crashing the current one first if it is up). */
  restart (address: Address): void {
    const host = this.#get(address, 'restart')
    if (host.up) this.#kill(host)
    host.restarts++
    this.trace.record('restart', { host: address, restarts: host.restarts })
    this.#start(host)
  }

  /**
   * Stalls the host's event loop for `ms`: its timers and deliveries wait and run late, in order, when
   * the pause ends. Pausing a paused host extends the pause to the later end. No-op if the host is down.
   */
  pause (address: Address, ms: number): void {
    const host = this.#get(address, 'pause')
    checkPositive('pause: ms', ms)
    if (!host.up) return
    const until = this.#now + ms
    this.trace.record('pause', { host: address, ms })
    if (host.paused && host.pausedUntil >= until) return
    host.paused = true
    host.pausedUntil = until
    const ev = new SimEvent(until, EV_RESUME, null, host.epoch)
    ev.subject = host
    this.#queue.push(ev)
  }

  /** The host's clock reads true time + `skewMs` (negative: behind). Survives restarts. */
  setClockSkew (address: Address, skewMs: number): void {
    const host = this.#get(address, 'setClockSkew')
    if (typeof skewMs !== 'number' || !Number.isFinite(skewMs)) throw new InvalidOptionError(`setClockSkew: skewMs must be a finite number of ms, got ${String(skewMs)}`)
    host.skewMs = skewMs
    this.trace.record('skew', { host: address, skewMs })
  }

  /** Runs `fn` at true virtual time `atMs` (sim-level: not tied to any host, never paused). */
  schedule (atMs: number, fn: () => void): void {
    if (typeof atMs !== 'number' || Number.isNaN(atMs) || atMs < this.#now) {
      throw new InvalidOptionError(`schedule: atMs must be >= now (${this.#now}), got ${String(atMs)}; use sim.now() + delay`)
    }
    const ev = new SimEvent(atMs, EV_SIM, null, 0)
    ev.fn = fn
    this.#queue.push(ev)
  }

  /** Runs `fn` `delayMs` from now. */
  after (delayMs: number, fn: () => void): void {
    this.schedule(this.#now + checkNonNegative('after: delayMs', delayMs), fn)
  }

  /**
   * Runs `fn` every `intervalMs` of virtual time, the first time `intervalMs` from now (sim-level, e.g. to
   * sample measurements for a report). Returns a function that stops it.
   */
  every (intervalMs: number, fn: () => void): () => void {
    checkPositive('every: intervalMs', intervalMs)
    let stopped = false
    const tick = (): void => {
      if (stopped) return
      fn()
      if (!stopped) this.schedule(this.#now + intervalMs, tick)
    }
    this.schedule(this.#now + intervalMs, tick)
    return () => { stopped = true }
  }

  /** Runs every event due at or before `atMs`, then sets the time to `atMs`. */
  runUntil (atMs: number): void {
    invariant(!this.#running, 'Simulator.runUntil called from inside an event; schedule work with sim.after instead')
    if (typeof atMs !== 'number' || Number.isNaN(atMs)) throw new InvalidOptionError(`runUntil: atMs must be a number, got ${String(atMs)}`)
    this.#running = true
    try {
      const queue = this.#queue
      while (queue.peekTime() <= atMs) this.#dispatch(queue.pop())
      if (atMs > this.#now) this.#now = atMs
    } finally {
      this.#running = false
    }
  }

  /** Runs for `ms` of virtual time. */
  runFor (ms: number): void {
    this.runUntil(this.#now + checkNonNegative('runFor: ms', ms))
  }

  /** Runs the next event; false when none is left. */
  step (): boolean {
    invariant(!this.#running, 'Simulator.step called from inside an event')
    this.#running = true
    try {
      const queue = this.#queue
      while (queue.size > 0) {
        if (this.#dispatch(queue.pop())) return true
      }
      return false
    } finally {
      this.#running = false
    }
  }

  /** Stops every running process (`process.stop()`), as at the end of a run. The hosts stay, down. */
  shutdown (): void {
    for (const host of this.#order) {
      if (!host.up) continue
      this.#kill(host)
    }
    this.trace.record('shutdown', {})
  }

  /** Returns true if the event ran. */
  #dispatch (ev: SimEvent): boolean {
    if (ev.time > this.#now) this.#now = ev.time
    if (ev.cancelled) return false
    const host = ev.host
    if (host === null) {
      if (ev.kind === EV_RESUME) {
        this.#resume(ev)
      } else {
        ev.fn!()
      }
      this.#events++
      return true
    }
    if (host.epoch !== ev.epoch) {
      if (ev.kind !== EV_TIMER) this.network.voided(ev)
      return false
    }
    if (host.paused) {
      if (ev.kind === EV_MESSAGE) {
        if (host.backlogMessages >= this.network.pausedInboxLimit) {
          this.network.overflow(ev)
          return false
        }
        host.backlogMessages++
      }
      host.backlog.push(ev)
      return false
    }
    this.#execute(ev)
    return true
  }

  #execute (ev: SimEvent): void {
    this.#events++
    if (ev.kind === EV_TIMER) {
      ev.fn!()
    } else {
      this.network.deliver(ev)
    }
  }

  #resume (ev: SimEvent): void {
    const host = ev.subject!
    if (host.epoch !== ev.epoch || !host.paused || host.pausedUntil > this.#now) return
    host.paused = false
    const backlog = host.backlog
    host.backlog = []
    host.backlogMessages = 0
    this.trace.record('resume', { host: host.address, late: backlog.length })
    const epoch = host.epoch
    for (let i = 0; i < backlog.length; i++) {
      const late = backlog[i]
      if (late.cancelled) continue
      if (host.epoch !== epoch) {
        if (late.kind !== EV_TIMER) this.network.voided(late)
        continue
      }
      if (host.paused) {
        // paused again while catching up: the rest waits for the new pause to end, still in order
        const rest = backlog.slice(i)
        host.backlog = rest.concat(host.backlog)
        host.backlogMessages = host.backlog.reduce((n, e) => n + (e.kind === EV_MESSAGE ? 1 : 0), 0)
        return
      }
      this.#execute(late)
    }
  }

  #start (host: SimHost): void {
    const epoch = ++host.epoch
    host.up = true
    host.paused = false
    host.backlog = []
    host.backlogMessages = 0
    const transport = new SimTransport(this.network, host, epoch, this.#maxDatagramBytes, this.#maxRequestBytes)
    host.transport = transport
    const ctx: HostContext = {
      address: host.address,
      transport,
      clock: new HostClock(this, host, epoch),
      random: this.random.fork('host:' + host.address + ':' + host.restarts),
      logger: this.logger.child({ host: host.address }),
      restarts: host.restarts
    }
    host.process = this.#starts.get(host)!(ctx)
    invariant(host.process !== null && typeof host.process === 'object' && typeof host.process.stop === 'function',
      `the start function of host ${host.address} must return a HostProcess ({ stop() })`)
  }

  #kill (host: SimHost): void {
    host.epoch++
    host.up = false
    host.paused = false
    const voidable = host.backlog
    host.backlog = []
    host.backlogMessages = 0
    for (const ev of voidable) if (ev.kind !== EV_TIMER && !ev.cancelled) this.network.voided(ev)
    const transport = host.transport
    host.transport = null
    transport?.kill()
    const process = host.process
    host.process = null
    process?.stop()
  }

  #get (address: Address, what: string): SimHost {
    const host = this.#hosts.get(address)
    if (host === undefined) throw new InvalidOptionError(`${what}: no host has the address ${address}; add it with sim.addHost first`)
    return host
  }
}
