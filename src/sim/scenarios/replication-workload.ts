/**
 * The clients of the replication scenario: each sits on one peer, runs one operation at a time (get,
 * set, delete on a key space; incr on a few counters), thinks a random time, and runs the next one.
 * Every operation is recorded in the history (invoke, then ok / fail / info) and in the trace. A client
 * whose peer is down, left or stopped moves to a live peer; after an `info` (unknown outcome) it goes on
 * under a new process id, as Jepsen's clients do.
 *
 * What an outcome is: reads that fail are `fail` (a read has no effect); writes that fail with outcome
 * `none` (refused before anything was sent, a quorum that certainly wrote nowhere) are `fail`; every other
 * failed write is `info`. Acknowledged writes are kept with the version they were given, for the
 * lost-write check.
 */
import type { MeshcacheError } from '../../errors.js'
import type { Random } from '../../env/random.js'
import type { Peer } from '../../node/peer.js'
import type { Version } from '../../storage/hlc.js'
import type { StoreEntry } from '../../storage/store.js'
import type { History } from '../history.js'
import type { Simulator } from '../simulator.js'

export interface AckedWrite {
  key: string
  version: Version
  /** The value written (null: a delete), as the history shows it. */
  value: string | null
  atMs: number
}

export interface OpTally { ok: number, fail: number, info: number }

export interface WorkloadInit {
  sim: Simulator
  random: Random
  history: History
  ns: string
  keys: number
  counters: number
  clients: number
  /** Mean think time between a client's operations, in ms (exponential). */
  thinkMs: number
  /** The peers by address (replaced on restart). */
  peers: Map<string, Peer>
  /** Addresses that may serve clients now. */
  live: () => string[]
}

const decoder = new TextDecoder()
const encoder = new TextEncoder()

function outcomeOf (err: MeshcacheError | null, isWrite: boolean): 'ok' | 'fail' | 'info' {
  if (err === null) return 'ok'
  if (!isWrite) return 'fail'
  const outcome = (err as { outcome?: string }).outcome
  return outcome === 'none' || outcome === undefined ? 'fail' : 'info'
}

export class Workload {
  readonly acked: AckedWrite[] = []
  readonly tally: Record<'get' | 'set' | 'delete' | 'incr', OpTally> = {
    get: { ok: 0, fail: 0, info: 0 }, set: { ok: 0, fail: 0, info: 0 }, delete: { ok: 0, fail: 0, info: 0 }, incr: { ok: 0, fail: 0, info: 0 }
  }

  /** Virtual ms of every ok operation (invoke to completion). */
  readonly latencies: number[] = []
  /** Every key the workload touched. */
  readonly keysUsed = new Set<string>()
  readonly #init: WorkloadInit
  #running = false
  #nextProcess: number
  #seq = 0

  constructor (init: WorkloadInit) {
    this.#init = init
    this.#nextProcess = init.clients
  }

  /** All keys of the workload's key space (values and counters). */
  allKeys (): string[] {
    const out: string[] = []
    for (let i = 0; i < this.#init.keys; i++) out.push(`k${i}`)
    for (let i = 0; i < this.#init.counters; i++) out.push(`c${i}`)
    return out
  }

  /** Writes every value key once through random peers (a prefill), calling `done` when all answered. */
  prefill (done: () => void): void {
    const { random, peers, live, ns } = this.#init
    let left = this.#init.keys
    if (left === 0) { done(); return }
    for (let i = 0; i < this.#init.keys; i++) {
      const key = `k${i}`
      const peer = peers.get(random.pick(live())!)!
      const value = `prefill:${i}`
      this.keysUsed.add(key)
      peer.engine.set(ns, key, encoder.encode(value), 0, (err, r) => {
        if (err === null && r !== undefined) this.acked.push({ key, version: r.version, value, atMs: this.#init.sim.now() })
        if (--left === 0) done()
      })
    }
  }

  start (): void {
    this.#running = true
    for (let c = 0; c < this.#init.clients; c++) {
      const state = { process: c, host: '' }
      this.#init.sim.after(this.#init.random.int(Math.max(1, Math.round(this.#init.thinkMs))), () => this.#next(state))
    }
  }

  stop (): void { this.#running = false }

  #think (): number {
    return Math.max(1, Math.round(-Math.log(1 - this.#init.random.next()) * this.#init.thinkMs))
  }

  #next (c: { process: number, host: string }): void {
    if (!this.#running) return
    const { sim, random, history, ns, peers, live } = this.#init
    let peer = peers.get(c.host)
    if (peer === undefined || peer.stopped || peer.leaving || !sim.isUp(c.host)) {
      const hosts = live()
      const host = random.pick(hosts)
      if (host === undefined) { sim.after(100, () => this.#next(c)); return }
      c.host = host
      peer = peers.get(host)!
    }
    const roll = random.next()
    const start = sim.now()
    const finish = (f: 'get' | 'set' | 'delete' | 'incr', key: string, err: MeshcacheError | null, value: unknown, version?: Version, written?: string | null): void => {
      const type = outcomeOf(err, f !== 'get')
      this.tally[f][type]++
      history.add(sim.now(), c.process, type, f, ns, key, type === 'ok' ? value : (f === 'get' ? null : value))
      sim.trace.record('op', { process: c.process, f, key, type })
      if (type === 'ok') {
        this.latencies.push(sim.now() - start)
        if (version !== undefined && f !== 'get') this.acked.push({ key, version, value: written ?? null, atMs: sim.now() })
      }
      if (type === 'info') c.process = this.#nextProcess++
      sim.after(this.#think(), () => this.#next(c))
    }
    if (roll < 0.1 && this.#init.counters > 0) {
      const key = `c${random.int(this.#init.counters)}`
      this.keysUsed.add(key)
      const delta = 1 + random.int(5)
      history.add(start, c.process, 'invoke', 'incr', ns, key, delta)
      peer.engine.incr(ns, key, delta, (err, r) => finish('incr', key, err, err === null ? r!.value : delta, r?.version, r === undefined ? null : String(r.value)))
      return
    }
    const key = `k${random.int(this.#init.keys)}`
    this.keysUsed.add(key)
    if (roll < 0.55) {
      history.add(start, c.process, 'invoke', 'get', ns, key, null)
      peer.engine.get(ns, key, undefined, (err, e?: StoreEntry) => finish('get', key, err, e?.value != null ? decoder.decode(e.value) : null))
    } else if (roll < 0.93) {
      const value = `${c.process}:${++this.#seq}`
      history.add(start, c.process, 'invoke', 'set', ns, key, value)
      peer.engine.set(ns, key, encoder.encode(value), 0, (err, r) => finish('set', key, err, value, r?.version, value))
    } else {
      history.add(start, c.process, 'invoke', 'delete', ns, key, null)
      peer.engine.delete(ns, key, (err, r) => finish('delete', key, err, null, r?.version, null))
    }
  }
}
