/**
 * The `replication` scenario: a mesh of full Peers (membership + ring + replication) on the simulated
 * network, clients running a mixed workload on random peers while a nemesis acts, then a heal, a quiet
 * period, and the checks a user of the mesh cares about.
 *
 * Phases (FoundationDB / TigerBeetle style; one seed drives everything, the same options give the same
 * `traceHash`):
 * 1. warm-up: peers start staggered and join through the first three; the namespace `kv` (the chosen
 *    mode, `replicas` copies) is declared by the first peer and spreads; every value key is written once;
 * 2. the window (`durationSeconds`): clients run; the nemesis crashes (one peer down at a time, so at
 *    most one replica of any key; a crashed peer restarts empty), partitions (random splits, an isolated
 *    peer, two halves bridged by one peer), pauses, adds joiners, makes peers leave gracefully;
 * 3. heal: faults end (partitions healed, crashed peers restarted), clients stop; the quiet period runs
 *    and `convergedAfterHealMs` is the first 500 ms sample at which every replica of every key holds the
 *    same version (in the final ring of live peers);
 * 4. checks: `divergentKeysAtEnd` (replicas disagreeing at the end), `lostAckedWrites` (acknowledged
 *    writes whose version — or a newer one — a quorum read after the quiet period does not return),
 *    `keysMovedFraction` (copies held at the end by peers that did not hold that key before the first
 *    join, over all copies held at the end; ideal: joiners / final peers);
 * 5. a fetch storm on a fresh namespace: `fetchStorm.clients` callers spread over the peers fetch the same
 *    `fetchStorm.keys` missing keys, each in its own random order; the loader takes 20 virtual ms.
 *    `loaderCalls` should equal the number of keys; `fetchMisses` counts the fetch calls that missed.
 */
import { InvalidOptionError } from '../../errors.js'
import type { MeshcacheError } from '../../errors.js'
import { createPeer, type Peer } from '../../node/peer.js'
import type { MembershipPreset } from '../../membership/config.js'
import { createRingCache } from '../../ring/ring-cache.js'
import { compareVersions } from '../../storage/hlc.js'
import type { StoreEntry } from '../../storage/store.js'
import { History } from '../history.js'
import { planRandomNemesis, scripted, type NemesisEvent } from '../nemesis.js'
import { Simulator } from '../simulator.js'
import { percentile } from '../stats.js'
import { checkDuration, checkInteger, checkNonNegative, checkPeers, checkProbability, checkSeed } from '../validate.js'
import { Workload } from './replication-workload.js'

export type NemesisKind = 'partition' | 'crash' | 'join' | 'leave' | 'pause'
export const NEMESIS_KINDS: readonly NemesisKind[] = ['partition', 'crash', 'join', 'leave', 'pause']

export interface ReplicationScenarioInit {
  /** Replication mode of the namespace under test. @default 'sync' */
  mode?: 'async' | 'sync'
  /** Peers at the start. @default 20 */
  peers?: number
  /** @default 1 */
  seed?: number
  /** Copies per key. @default 3 */
  replicas?: number
  /** Faults during the window. @default [] */
  nemesis?: NemesisKind[]
  /** Peers that join during the window (with 'join'). @default 5 */
  joiners?: number
  /** Peers that leave gracefully during the window (with 'leave'). @default max(1, peers / 10) */
  leavers?: number
  /** Concurrent clients. @default peers */
  clients?: number
  /** Value keys (plus 10 counters). @default 200 */
  keys?: number
  /** Mean think time of a client between operations, in ms. @default 50 */
  thinkMs?: number
  /** Warm-up, in virtual seconds. @default 20 */
  warmupSeconds?: number
  /** The window with clients and faults, in virtual seconds. @default 60 */
  durationSeconds?: number
  /** After the heal, in virtual seconds. @default 60 */
  quietSeconds?: number
  /** Membership preset of the peers. @default 'lan' */
  preset?: MembershipPreset
  /** One-way latency and mean extra latency, in ms. @default 1, 1 */
  latencyMs?: number
  jitterMs?: number
  /** Datagram loss on every link. @default 0 */
  loss?: number
  /** The fetch storm at the end; false skips it. @default { clients: 100, keys: 50 } */
  fetchStorm?: { clients: number, keys: number } | false
  /** Keep the operation history (for --history). @default false */
  history?: boolean
}

export interface ReplicationReport {
  scenario: 'replication'
  mode: 'async' | 'sync'
  seed: number
  peers: number
  joiners: number
  leavers: number
  replicas: number
  nemesis: NemesisKind[]
  clients: number
  keys: number
  virtualSeconds: number
  wallSeconds: number
  speedup: number
  ops: number
  ok: number
  fail: number
  info: number
  byOp: Record<string, { ok: number, fail: number, info: number }>
  latencyMs: { p50: number, p99: number, max: number }
  ackedWrites: number
  lostAckedWrites: number
  lostExamples: Array<{ key: string, acked: string, final: string }>
  /** Keys whose final quorum read failed (their writes cannot be checked: a liveness failure, reported apart). */
  finalReadFailures: number
  finalReadErrors: string[]
  convergedAfterHealMs: number
  divergentKeysAtEnd: number
  /** Up to 5 divergent keys: what each replica holds. */
  divergentExamples: string[]
  keysMovedFraction: number | null
  idealMovedFraction: number | null
  loaderCalls: number | null
  fetchMisses: number | null
  fetchCalls: number | null
  fetchKeys: number | null
  faults: Record<string, number>
  protocol: Record<string, number>
  traceHash: string
  simEvents: number
}

export interface ReplicationRun {
  report: ReplicationReport
  history: History
}

const NS = 'kv'
const STORM_NS = 'storm'

function address (prefix: string, i: number): string { return `${prefix}${String(i).padStart(2, '0')}` }

/** Validates the options (InvalidOptionError naming the option) and fills in defaults. */
function resolve (init: ReplicationScenarioInit): Required<ReplicationScenarioInit> {
  const peers = checkPeers(init.peers ?? 20)
  const nemesis = init.nemesis ?? []
  for (const n of nemesis) if (!NEMESIS_KINDS.includes(n)) throw new InvalidOptionError(`unknown nemesis ${JSON.stringify(n)}; use a comma-separated list of ${NEMESIS_KINDS.join(', ')}`)
  const mode = init.mode ?? 'sync'
  if (mode !== 'async' && mode !== 'sync') throw new InvalidOptionError(`--mode must be async or sync, got ${JSON.stringify(mode)} (strong has its own scenario)`)
  const storm = init.fetchStorm ?? { clients: 100, keys: 50 }
  if (storm !== false) {
    checkInteger('fetchStorm.clients', storm.clients, 1)
    checkInteger('fetchStorm.keys', storm.keys, 1)
  }
  return {
    mode,
    peers,
    seed: checkSeed(init.seed ?? 1),
    replicas: checkInteger('replicas', init.replicas ?? 3, 1),
    nemesis: [...new Set(nemesis)],
    joiners: checkInteger('joiners', init.joiners ?? 5, 0),
    leavers: checkInteger('leavers', init.leavers ?? Math.max(1, Math.floor(peers / 10)), 0),
    clients: checkInteger('clients', init.clients ?? peers, 1),
    keys: checkInteger('keys', init.keys ?? 200, 1),
    thinkMs: checkNonNegative('thinkMs', init.thinkMs ?? 50),
    warmupSeconds: checkNonNegative('warmupSeconds', init.warmupSeconds ?? 20),
    durationSeconds: checkDuration(init.durationSeconds ?? 60),
    quietSeconds: checkNonNegative('quietSeconds', init.quietSeconds ?? 60),
    preset: init.preset ?? 'lan',
    latencyMs: checkNonNegative('latencyMs', init.latencyMs ?? 1),
    jitterMs: checkNonNegative('jitterMs', init.jitterMs ?? 1),
    loss: checkProbability('loss', init.loss ?? 0),
    fetchStorm: storm,
    history: init.history ?? false
  }
}

export function runReplicationScenario (init: ReplicationScenarioInit = {}): ReplicationRun {
  const o = resolve(init)
  if (o.warmupSeconds < 5) throw new InvalidOptionError('warmupSeconds must be at least 5 (peers join and the namespace spreads)')
  const wallStart = performance.now()
  const sim = new Simulator({ seed: o.seed, link: { latencyMs: o.latencyMs, jitterMs: o.jitterMs, loss: o.loss }, traceMessages: false })
  const rings = createRingCache({ maxRings: 64 })
  const peers = new Map<string, Peer>()
  const left = new Set<string>()
  const history = new History(sim.startMs, o.history)
  const seeds = [address('p', 1), address('p', 2), address('p', 3)].slice(0, o.peers)
  const startHost = (addr: string): void => {
    sim.addHost(addr, (ctx) => {
      // a peer that left is gone for good: the nemesis may still "restart" its host, which then runs nothing
      if (left.has(addr)) return { stop: () => {} }
      const peer = createPeer({
        transport: ctx.transport, clock: ctx.clock, random: ctx.random, logger: ctx.logger, preset: o.preset, ringCache: rings, defaultNamespace: false,
        namespaces: addr === seeds[0] ? [{ name: NS, replication: o.mode, replicas: o.replicas }] : []
      })
      peers.set(addr, peer)
      peer.start()
      const others = seeds.filter((s) => s !== addr)
      if (others.length > 0) void peer.join(others)
      return { stop: () => peer.stop() }
    })
  }
  const liveHosts = (): string[] => [...peers.keys()].filter((a) => sim.isUp(a) && !left.has(a) && !peers.get(a)!.stopped && !peers.get(a)!.leaving)

  // 1. warm-up: staggered starts over the first 5 s
  const random = sim.random.fork('workload')
  for (let i = 1; i <= o.peers; i++) {
    const addr = address('p', i)
    if (i === 1) startHost(addr)
    else sim.schedule(sim.startMs + Math.round((i - 1) * 5000 / o.peers), () => startHost(addr))
  }
  sim.runFor(o.warmupSeconds * 1000 - 3000)
  const workload = new Workload({ sim, random, history, ns: NS, keys: o.keys, counters: 10, clients: o.clients, thinkMs: o.thinkMs, peers, live: liveHosts })
  workload.prefill(() => {})
  sim.runFor(3000)

  // 2. the window
  const windowStart = sim.elapsed()
  const windowEnd = windowStart + o.durationSeconds * 1000
  const has = (k: NemesisKind): boolean => o.nemesis.includes(k)
  const nemesisRandom = sim.random.fork('nemesis')
  const initial = [...peers.keys()]
  const events: NemesisEvent[] = (has('crash') || has('partition') || has('pause'))
    ? planRandomNemesis(initial, nemesisRandom, {
      startMs: windowStart + 2000,
      endMs: windowEnd,
      crashesPerMinute: has('crash') ? 3 : 0,
      restartAfterMs: 15_000,
      maxCrashed: 1,
      pausesPerMinute: has('pause') ? 3 : 0,
      partitionsPerMinute: has('partition') ? 1.5 : 0,
      partitionMs: 15_000
    })
    : []
  const faults: Record<string, number> = {}
  for (const e of events) faults[e.type] = (faults[e.type] ?? 0) + 1
  // A partition planned before some peers joined puts each of them on a random side (the simulated
  // network would otherwise put every host missing from the groups into one more group of its own).
  const partitionRandom = sim.random.fork('partition-sides')
  const planned = events.map((e): NemesisEvent => {
    if (e.type !== 'partition') return e
    return { atMs: e.atMs, type: 'mark', label: `partition:${events.indexOf(e)}` }
  })
  for (const e of events) {
    if (e.type !== 'partition') continue
    sim.schedule(sim.startMs + e.atMs, () => {
      const groups = e.groups.map((g) => g.slice())
      const listed = new Set(groups.flat())
      for (const addr of peers.keys()) if (!listed.has(addr)) groups[partitionRandom.int(groups.length)].push(addr)
      sim.network.partition(groups)
      history.add(sim.now(), 'nemesis', 'info', 'partition', undefined, undefined, { groups })
    })
  }
  scripted(sim, planned, {
    onEvent: (entry) => {
      if (entry.event.type === 'mark' && entry.event.label.startsWith('partition:')) return
      history.add(sim.now(), 'nemesis', 'info', entry.event.type, undefined, undefined, describe(entry.event))
    }
  })
  // holders before the first join, for keysMovedFraction
  let holdersBefore: Map<string, Set<string>> | undefined
  const joinTimes: number[] = []
  if (has('join')) {
    for (let j = 1; j <= o.joiners; j++) joinTimes.push(windowStart + 5000 + nemesisRandom.int(Math.max(1, o.durationSeconds * 1000 - 20_000)))
    joinTimes.sort((a, b) => a - b)
    joinTimes.forEach((t, j) => {
      sim.schedule(sim.startMs + t, () => {
        if (j === 0) holdersBefore = holders(peers, workload.allKeys(), sim)
        const addr = address('j', j + 1)
        history.add(sim.now(), 'nemesis', 'info', 'join', undefined, undefined, addr)
        startHost(addr)
      })
    })
    faults.join = o.joiners
  }
  if (has('leave')) {
    const candidates = nemesisRandom.shuffle(initial.filter((a) => !seeds.includes(a))).slice(0, o.leavers)
    for (const addr of candidates) {
      const t = windowStart + 3000 + nemesisRandom.int(Math.max(1, o.durationSeconds * 1000 - 15_000))
      sim.schedule(sim.startMs + t, () => {
        const peer = peers.get(addr)
        if (peer === undefined || peer.stopped || !sim.isUp(addr)) return
        left.add(addr)
        history.add(sim.now(), 'nemesis', 'info', 'leave', undefined, undefined, addr)
        peer.leaveThen(() => {})
      })
    }
    faults.leave = candidates.length
  }
  workload.start()
  sim.runUntil(sim.startMs + windowEnd)
  workload.stop()

  // 3. heal (planRandomNemesis heals and restarts at windowEnd) and the quiet period
  const healAt = sim.now()
  let convergedAfterHealMs = -1
  const quietEnd = healAt + o.quietSeconds * 1000
  while (sim.now() < quietEnd) {
    sim.runFor(500)
    if (convergedAfterHealMs < 0 && divergentKeys(peers, liveHosts(), rings, workload.allKeys(), o.replicas) === 0) {
      convergedAfterHealMs = sim.now() - healAt
    }
  }
  const live = liveHosts()
  const divergentExamples: string[] = []
  const divergentKeysAtEnd = divergentKeys(peers, live, rings, workload.allKeys(), o.replicas, divergentExamples)

  // 4. checks
  const finalReadErrors: string[] = []
  const final = quorumReadAll(sim, peers, live, workload.allKeys(), finalReadErrors)
  const lost: Array<{ key: string, acked: string, final: string }> = []
  let lostCount = 0
  for (const w of workload.acked) {
    if (!final.has(w.key)) continue // the final read failed: counted in finalReadFailures
    const f = final.get(w.key)
    if (f === undefined || compareVersions(f.version, w.version) < 0) {
      lostCount++
      if (lost.length < 10) lost.push({ key: w.key, acked: `${w.value ?? 'delete'} @${w.version.physical}.${w.version.logical}.${w.version.writerId}`, final: f === undefined ? 'none' : `${f.value === null ? 'delete' : new TextDecoder().decode(f.value)} @${f.version.physical}.${f.version.logical}.${f.version.writerId}` })
    }
  }
  let keysMovedFraction: number | null = null
  if (holdersBefore !== undefined) {
    const after = holders(peers, workload.allKeys(), sim)
    let moved = 0
    let total = 0
    for (const [key, set] of after) {
      const before = holdersBefore.get(key) ?? new Set()
      for (const h of set) { total++; if (!before.has(h)) moved++ }
    }
    keysMovedFraction = total === 0 ? 0 : round4(moved / total)
  }

  // 5. fetch storm
  let storm: { loaderCalls: number, fetchMisses: number, fetchCalls: number } | undefined
  if (o.fetchStorm !== false) storm = fetchStorm(sim, peers, live, o.fetchStorm, o.mode)

  const summed: Record<string, number> = {}
  for (const a of live) {
    const s = peers.get(a)!.stats()
    for (const [k, v] of Object.entries(s.replication.counters)) summed[k] = (summed[k] ?? 0) + v
    for (const [k, v] of Object.entries(s.replication.hints)) summed[`hints.${k}`] = (summed[`hints.${k}`] ?? 0) + v
    summed['rpc.batchesSent'] = (summed['rpc.batchesSent'] ?? 0) + s.rpc.batchesSent
    summed['rpc.itemsSent'] = (summed['rpc.itemsSent'] ?? 0) + s.rpc.itemsSent
  }
  sim.shutdown()
  const wallSeconds = (performance.now() - wallStart) / 1000
  const t = workload.tally
  const ok = t.get.ok + t.set.ok + t.delete.ok + t.incr.ok
  const fail = t.get.fail + t.set.fail + t.delete.fail + t.incr.fail
  const info = t.get.info + t.set.info + t.delete.info + t.incr.info
  const lat = workload.latencies
  const report: ReplicationReport = {
    scenario: 'replication',
    mode: o.mode,
    seed: o.seed,
    peers: o.peers,
    joiners: has('join') ? o.joiners : 0,
    leavers: faults.leave ?? 0,
    replicas: o.replicas,
    nemesis: o.nemesis,
    clients: o.clients,
    keys: o.keys,
    virtualSeconds: Math.round(sim.elapsed() / 1000),
    wallSeconds: Math.round(wallSeconds * 100) / 100,
    speedup: Math.round(sim.elapsed() / 1000 / wallSeconds * 10) / 10,
    ops: ok + fail + info,
    ok,
    fail,
    info,
    byOp: t,
    latencyMs: { p50: lat.length > 0 ? round2(percentile(lat, 50)) : 0, p99: lat.length > 0 ? round2(percentile(lat, 99)) : 0, max: lat.length > 0 ? round2(Math.max(...lat)) : 0 },
    ackedWrites: workload.acked.length,
    lostAckedWrites: lostCount,
    lostExamples: lost,
    finalReadFailures: finalReadErrors.length,
    finalReadErrors: finalReadErrors.slice(0, 5),
    convergedAfterHealMs,
    divergentKeysAtEnd,
    divergentExamples,
    keysMovedFraction,
    idealMovedFraction: has('join') ? round4(o.joiners / (o.peers + o.joiners - (faults.leave ?? 0))) : null,
    loaderCalls: storm?.loaderCalls ?? null,
    fetchMisses: storm?.fetchMisses ?? null,
    fetchCalls: storm?.fetchCalls ?? null,
    fetchKeys: o.fetchStorm === false ? null : o.fetchStorm.keys,
    faults,
    protocol: summed,
    traceHash: sim.trace.hash(),
    simEvents: sim.eventsRun
  }
  return { report, history }
}

function round4 (x: number): number { return Math.round(x * 10_000) / 10_000 }
function round2 (x: number): number { return Math.round(x * 100) / 100 }

function describe (e: NemesisEvent): unknown {
  const { atMs: _at, type: _type, ...rest } = e as NemesisEvent & Record<string, unknown>
  return rest
}

/** Which live peers hold an entry (value or tombstone) for each key. */
function holders (peers: Map<string, Peer>, keys: readonly string[], sim: Simulator): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>()
  for (const k of keys) out.set(k, new Set())
  for (const [addr, peer] of peers) {
    if (!sim.isUp(addr) || peer.stopped) continue
    const ns = peer.engine.namespace(NS)
    if (ns === undefined) continue
    for (const k of keys) if (ns.store.getEntry(k) !== undefined) out.get(k)!.add(addr)
  }
  return out
}

function sameEntry (a: StoreEntry | undefined, b: StoreEntry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return compareVersions(a.version, b.version) === 0 && (a.value === null) === (b.value === null)
}

function describeEntry (e: StoreEntry | undefined): string {
  if (e === undefined) return 'none'
  return `${e.value === null ? 'tombstone' : 'value'}@${e.version.physical}.${e.version.logical}.${e.version.writerId}`
}

/**
 * Keys whose replicas (in the ring of the live peers) do not all hold the same version; `examples`
 * gets up to 5 of them described (replica: what it holds).
 */
function divergentKeys (peers: Map<string, Peer>, live: readonly string[], rings: ReturnType<typeof createRingCache>, keys: readonly string[], replicas: number, examples?: string[]): number {
  if (live.length === 0) return keys.length
  const ring = rings.ring(live)
  let n = 0
  const list: string[] = []
  for (const key of keys) {
    ring.preferenceListInto(NS, key, replicas, list)
    let first: StoreEntry | undefined
    let same = true
    for (let i = 0; i < list.length; i++) {
      const ns = peers.get(list[i])?.engine.namespace(NS)
      const e = ns?.store.getEntry(key)
      if (ns === undefined) { same = false; break }
      if (i === 0) first = e
      else if (!sameEntry(first, e)) { same = false; break }
    }
    if (!same) {
      n++
      if (examples !== undefined && examples.length < 5) {
        examples.push(`${key}: ` + list.map((p) => `${p}=${describeEntry(peers.get(p)?.engine.namespace(NS)?.store.getEntry(key))}`).join(', '))
      }
    }
  }
  return n
}

/** Quorum-reads every key through random live peers; the entries found (tombstones included). */
function quorumReadAll (sim: Simulator, peers: Map<string, Peer>, live: readonly string[], keys: readonly string[], errors: string[]): Map<string, StoreEntry | undefined> {
  const out = new Map<string, StoreEntry | undefined>()
  const random = sim.random.fork('final-reads')
  let left = keys.length
  for (const key of keys) {
    const peer = peers.get(random.pick(live)!)!
    peer.engine.get(NS, key, 'quorum', (err: MeshcacheError | null, e?: StoreEntry) => {
      if (err === null) out.set(key, e)
      else errors.push(`${key}: ${err.message}`)
      left--
    })
  }
  for (let i = 0; i < 60 && left > 0; i++) sim.runFor(500)
  return out
}

/** Many callers fetch the same missing keys at once; counts loader calls and misses. */
function fetchStorm (sim: Simulator, peers: Map<string, Peer>, live: readonly string[], storm: { clients: number, keys: number }, mode: 'async' | 'sync'): { loaderCalls: number, fetchMisses: number, fetchCalls: number } {
  const random = sim.random.fork('fetch-storm')
  peers.get(live[0])!.declareNamespace({ name: STORM_NS, replication: mode, replicas: 3 })
  sim.runFor(2000) // the namespace spreads
  let loaderCalls = 0
  let fetchMisses = 0
  let fetchCalls = 0
  let pending = 0
  const encoder = new TextEncoder()
  for (let c = 0; c < storm.clients; c++) {
    const host = live[c % live.length]
    const peer = peers.get(host)!
    const order = random.shuffle([...Array(storm.keys).keys()])
    const clock = { setTimer: (ms: number, fn: () => void) => sim.after(ms, fn) }
    let i = 0
    const next = (): void => {
      if (i >= order.length) return
      const key = `s${order[i++]}`
      fetchCalls++
      pending++
      peer.engine.fetch(STORM_NS, key, { ttlMs: 600_000 }, (k, done) => {
        loaderCalls++
        clock.setTimer(20, () => done(null, encoder.encode(`loaded:${k}`)))
      }, (_err, r) => {
        pending--
        if (r === undefined || r.source !== 'cache') fetchMisses++
        next()
      })
    }
    sim.after(random.int(20), next)
  }
  for (let i = 0; i < 600 && (pending > 0 || fetchCalls < storm.clients * storm.keys); i++) sim.runFor(100)
  return { loaderCalls, fetchMisses, fetchCalls }
}
