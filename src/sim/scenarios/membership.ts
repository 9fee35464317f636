/**
 * The `membership` scenario: a whole mesh of SWIM + Lifeguard peers on the simulated network, with the
 * faults a user wants to see handled (crashes, event-loop stalls, a 50/50 partition and its heal), and a
 * report of what the SWIM and Lifeguard papers measure.
 *
 * Phases (FoundationDB / TigerBeetle style): warm-up (peers join through a seed, staggered, and settle),
 * then the measured window with faults, then, for a partition, the heal and the liveness check (views
 * must agree again). Everything is driven by one seed: the same options give the same `traceHash`.
 *
 * What is measured, and how (observers are peers that are up; times are true virtual time):
 * - detection: from a crash to the first `suspect` (or `dead`) about the crashed peer anywhere, in periods;
 * - deadEverywhere: from a crash until every peer still up at the end has marked it dead;
 * - falsePositives: `dead` declarations about a peer that was up, outside a partition's effects (from the
 *   split until views agree after the heal, deaths are expected and counted apart as partitionDeaths);
 * - messages and bytes: everything put on the simulated wire (datagrams, requests, replies) during the
 *   measured window, per up member and per protocol period / second;
 * - convergedAfterHealMs: after the heal, the first period at which every up peer has the same
 *   membership checksum and sees every up peer alive.
 */
import { MembershipNode } from '../../node/membership-node.js'
import { presetConfig } from '../../membership/config.js'
import type { MembershipPreset } from '../../membership/config.js'
import type { MemberEvent } from '../../membership/types.js'
import { InvalidOptionError } from '../../errors.js'
import { Simulator } from '../simulator.js'
import { percentile } from '../stats.js'
import { renderTimeline } from '../svg.js'
import type { TimelineEvent, TimelineSeries, TimelineSpan } from '../svg.js'
import { checkDuration, checkInteger, checkNonNegative, checkPeers, checkProbability, checkSeed } from '../validate.js'

export interface MembershipScenarioInit {
  /** Number of peers. @default 100 */
  peers?: number
  /** The seed of the whole run. @default 1 */
  seed?: number
  /** Datagram loss probability on every link, in [0, 1]. @default 0 */
  loss?: number
  /** How many peers crash (at random times) during the measured window. @default 0 */
  crash?: number
  /** How many peers stall their event loop for 2–5 s now and then (every 20–60 s). @default 0 */
  pause?: number
  /** Split the mesh 50/50 at `atSeconds` into the measured window and heal at `healSeconds`. */
  partition?: { atSeconds: number, healSeconds: number }
  /** Lifeguard on (true) or plain SWIM (false). @default true */
  lifeguard?: boolean
  /** The length of the measured window, in virtual seconds. @default 600 */
  durationSeconds?: number
  /** Joining and settling before the measured window, in virtual seconds. @default 60 */
  warmupSeconds?: number
  /** Membership preset. @default 'lan' */
  preset?: MembershipPreset
  /** One-way link latency, in ms. @default 1 */
  latencyMs?: number
  /** Extra random latency (exponential, this mean), in ms. @default 1 */
  jitterMs?: number
  /** Collect the samples for an SVG timeline. @default false */
  timeline?: boolean
  /**
   * Called every 10 virtual seconds with how far the run is (for long runs: 10,000 peers take an hour).
   * The run goes on in 10 s steps between calls, so the outcome and `traceHash` are the same with or
   * without it.
   */
  onProgress?: (progress: MembershipProgress) => void
}

export interface MembershipProgress {
  virtualSeconds: number
  totalVirtualSeconds: number
  wallSeconds: number
  phase: 'warm-up' | 'measured'
}

export interface MembershipReport {
  scenario: 'membership'
  seed: number
  peers: number
  preset: MembershipPreset
  lifeguard: boolean
  loss: number
  crashes: number
  pausingPeers: number
  probeIntervalMs: number
  warmupSeconds: number
  durationSeconds: number
  virtualSeconds: number
  wallSeconds: number
  /** Virtual seconds simulated per wall-clock second. */
  speedup: number
  /** From a crash to the first suspicion of it anywhere, in protocol periods. */
  detection: { p50Periods: number, p99Periods: number, maxPeriods: number, samples: number }
  /** From a crash until every live peer marks it dead. `incomplete`: crashes some live peer never marked dead. */
  deadEverywhere: { p50Ms: number, p99Ms: number, maxMs: number, samples: number, incomplete: number }
  /** `dead` declarations about live peers (between peers that could reach each other). */
  falsePositives: number
  /** Distinct live peers declared dead at least once. */
  falsePositiveMembers: number
  /** False positives whose target never stalled (healthy members). */
  falsePositivesHealthy: number
  /** `suspect` events about live peers (mostly refuted in time). */
  falseSuspicions: number
  /** Deaths declared from a partition's split until views agree after its heal (expected, not false positives). */
  partitionDeaths: number
  messagesPerMemberPerPeriod: number
  bytesPerMemberPerSecond: number
  /** Largest datagram on the wire, in bytes. */
  maxMessageBytes: number
  /** Largest request or reply (push-pull state) on the wire, in bytes. */
  maxRequestBytes: number
  /** After the heal, ms until views agree (null: no partition; -1: not within the run). */
  convergedAfterHealMs: number | null
  /** Peers up at the end, and how many distinct membership checksums they hold. */
  finalView: { live: number, distinctChecksums: number, everyoneSeesEveryone: boolean }
  refutations: number
  /**
   * Protocol counters summed over the peers up at the end (their whole life, warm-up included): where
   * the messages went (probes, push-pulls, cascades, repairs, queue drops, ...).
   */
  protocol: Record<string, number>
  traceHash: string
  traceRecords: number
  simEvents: number
}

export interface MembershipRun {
  report: MembershipReport
  /** The SVG timeline, when `timeline` was asked for. */
  svg?: string
}

interface Resolved {
  peers: number, seed: number, loss: number, crash: number, pause: number, lifeguard: boolean,
  durationMs: number, warmupMs: number, preset: MembershipPreset, latencyMs: number, jitterMs: number,
  partition?: { atMs: number, healMs: number }, timeline: boolean, onProgress?: (progress: MembershipProgress) => void
}

function resolve (init: MembershipScenarioInit): Resolved {
  const peers = checkPeers(init.peers ?? 100, 'peers')
  const crash = checkInteger('crash', init.crash ?? 0, 0)
  const pause = checkInteger('pause', init.pause ?? 0, 0)
  if (crash + pause > peers - 1) {
    throw new InvalidOptionError(`crash (${crash}) + pause (${pause}) must leave at least one healthy peer out of ${peers}; lower them or add peers`)
  }
  const durationMs = checkDuration(init.durationSeconds ?? 600, 'duration') * 1000
  const warmupMs = checkNonNegative('warmup', init.warmupSeconds ?? 60) * 1000
  const preset = init.preset ?? 'lan'
  if (!['lan', 'local', 'wan'].includes(preset)) throw new InvalidOptionError(`preset must be lan, local or wan, got ${String(preset)}`)
  let partition: Resolved['partition']
  if (init.partition !== undefined) {
    const { atSeconds, healSeconds } = init.partition
    checkNonNegative('partition start', atSeconds)
    if (!(healSeconds > atSeconds) || healSeconds * 1000 > durationMs) {
      throw new InvalidOptionError(`partition must heal after it starts and within the run (0 <= at < heal <= duration ${durationMs / 1000} s), got ${atSeconds}:${healSeconds}`)
    }
    if (peers < 2) throw new InvalidOptionError('a partition needs at least 2 peers')
    partition = { atMs: atSeconds * 1000, healMs: healSeconds * 1000 }
  }
  return {
    peers,
    seed: checkSeed(init.seed ?? 1),
    loss: checkProbability('loss', init.loss ?? 0),
    crash,
    pause,
    lifeguard: init.lifeguard ?? true,
    durationMs,
    warmupMs,
    preset,
    latencyMs: checkNonNegative('latencyMs', init.latencyMs ?? 1),
    jitterMs: checkNonNegative('jitterMs', init.jitterMs ?? 1),
    partition,
    timeline: init.timeline ?? false,
    onProgress: init.onProgress
  }
}

/** Virtual time between two progress reports. */
const PROGRESS_STEP_MS = 10_000

/** The address of peer `i`: `p0000`, `p0001`, ... (wider when there are more than 10,000 peers). */
export function peerAddress (i: number, peers: number): string {
  return 'p' + String(i).padStart(Math.max(4, String(peers - 1).length), '0')
}

export function runMembershipScenario (init: MembershipScenarioInit = {}): MembershipRun {
  const o = resolve(init)
  const wallStart = performance.now()
  const periodMs = presetConfig(o.preset).probeIntervalMs
  const sim = new Simulator({ seed: o.seed, link: { latencyMs: o.latencyMs, jitterMs: o.jitterMs, jitterDistribution: 'exponential', loss: o.loss } })
  const addresses = Array.from({ length: o.peers }, (_, i) => peerAddress(i, o.peers))
  const nodes = new Map<string, MembershipNode>()
  const scenarioRandom = sim.random.fork('scenario')

  // ground truth, kept by the scenario (never by the peers)
  const crashedAt = new Map<string, number>()
  const pausedEver = new Set<string>()
  const sideOf = new Map<string, number>()
  // from the split until views agree again, deaths are the partition's doing (each side declares the
  // other dead, and after the heal those declarations spread until their targets refute them)
  let partitionEffects = false

  const detectionAt = new Map<string, number>() // crashed address -> first suspicion anywhere
  const deadSeenBy = new Map<string, Map<string, number>>() // crashed address -> observer -> time
  let falsePositives = 0
  let falsePositivesHealthy = 0
  let falseSuspicions = 0
  let partitionDeaths = 0
  const falseDeadMembers = new Set<string>()
  const timelineEvents: TimelineEvent[] = []

  const onEvent = (observer: string, e: MemberEvent): void => {
    if (e.type !== 'suspect' && e.type !== 'dead') return
    const target = e.member.address
    const now = sim.now()
    sim.trace.record('member', { observer, target, type: e.type, reason: e.reason, inc: e.member.incarnation })
    const crashTime = crashedAt.get(target)
    if (crashTime !== undefined && now >= crashTime) {
      if (!detectionAt.has(target)) detectionAt.set(target, now)
      if (e.type === 'dead') {
        const seen = deadSeenBy.get(target)!
        if (!seen.has(observer)) seen.set(observer, now)
      }
    } else if (partitionEffects) {
      if (e.type === 'dead') partitionDeaths++
    } else if (e.type === 'dead') {
      falsePositives++
      falseDeadMembers.add(target)
      if (!pausedEver.has(target)) falsePositivesHealthy++
    } else {
      falseSuspicions++
    }
    if (o.timeline) timelineEvents.push({ timeMs: now - sim.startMs, kind: e.type, label: `${observer} → ${target}` })
  }

  for (const address of addresses) {
    sim.addHost(address, (ctx) => {
      const node = new MembershipNode({
        transport: ctx.transport, clock: ctx.clock, random: ctx.random, logger: ctx.logger, preset: o.preset, lifeguard: o.lifeguard
      })
      nodes.set(address, node)
      node.onEvent((e) => { onEvent(address, e) })
      node.start()
      return { stop: () => { node.stop() } }
    })
  }

  // warm-up: staggered joins through the first peer, then settle
  const joinSpreadMs = Math.min(20_000, o.peers * 20, o.warmupMs)
  for (let i = 1; i < o.peers; i++) {
    const address = addresses[i]
    sim.schedule(sim.startMs + Math.floor((i / o.peers) * joinSpreadMs), () => { void nodes.get(address)!.join([addresses[0]]) })
  }
  const measureStart = sim.startMs + o.warmupMs
  const measureEnd = measureStart + o.durationMs

  // faults, planned from the seed up front
  const shuffled = scenarioRandom.shuffle(addresses.slice())
  const victims = shuffled.slice(0, o.crash)
  const pausers = shuffled.slice(o.crash, o.crash + o.pause)
  const crashFrom = measureStart + Math.min(10_000, o.durationMs / 10)
  const crashSpan = Math.max(1, o.durationMs - Math.min(60_000, o.durationMs / 2) - (crashFrom - measureStart))
  for (const v of victims) {
    const at = crashFrom + scenarioRandom.int(Math.floor(crashSpan))
    sim.schedule(at, () => {
      crashedAt.set(v, sim.now())
      // observers that already hold it dead (e.g. across a partition) have nothing left to learn
      const seen = new Map<string, number>()
      for (const [x, n] of nodes) {
        const state = sim.isUp(x) && !n.stopped ? n.member(v)?.state : undefined
        if (state === 'dead' || state === 'left') seen.set(x, sim.now())
      }
      deadSeenBy.set(v, seen)
      sim.trace.record('crash', { host: v })
      if (o.timeline) timelineEvents.push({ timeMs: sim.now() - sim.startMs, kind: 'crash', label: v })
      sim.crash(v)
    })
  }
  for (const p of pausers) {
    let at = measureStart + 5_000 + scenarioRandom.int(20_000)
    while (at < measureEnd) {
      const ms = 2000 + scenarioRandom.int(3001)
      sim.schedule(at, () => {
        pausedEver.add(p)
        sim.trace.record('pause', { host: p, ms })
        if (o.timeline) timelineEvents.push({ timeMs: sim.now() - sim.startMs, kind: 'pause', label: `${p} ${ms} ms` })
        sim.pause(p, ms)
      })
      at += ms + 20_000 + scenarioRandom.int(40_000)
    }
  }
  const spans: TimelineSpan[] = []
  let healAt = -1
  let convergedAfterHealMs: number | null = null
  if (o.partition !== undefined) {
    const halves = scenarioRandom.shuffle(addresses.slice())
    const a = halves.slice(0, Math.floor(o.peers / 2))
    const b = halves.slice(Math.floor(o.peers / 2))
    for (const x of a) sideOf.set(x, 0)
    for (const x of b) sideOf.set(x, 1)
    const splitAt = measureStart + o.partition.atMs
    healAt = measureStart + o.partition.healMs
    convergedAfterHealMs = -1
    sim.schedule(splitAt, () => { partitionEffects = true; sim.trace.record('partition', { sizes: `${a.length}|${b.length}` }); sim.network.partition([a, b]) })
    sim.schedule(healAt, () => { sim.trace.record('heal', {}); sim.network.heal() })
    spans.push({ fromMs: splitAt - sim.startMs, toMs: healAt - sim.startMs, label: 'partition' })
  }

  // samples for the timeline and the convergence check
  const sampleEveryMs = Math.max(periodMs, Math.ceil((o.warmupMs + o.durationMs) / 300 / periodMs) * periodMs)
  const series: Array<{ name: string, members: string[], points: Array<[number, number]> }> = []
  if (o.timeline) {
    const groups = o.partition === undefined
      ? [{ name: 'live members seen (mean over peers)', members: addresses }]
      : [0, 1].map((s) => ({ name: `side ${s === 0 ? 'A' : 'B'}: live members seen`, members: addresses.filter((x) => sideOf.get(x) === s) }))
    for (const g of groups) series.push({ name: g.name, members: scenarioRandom.shuffle(g.members.slice()).slice(0, 48), points: [] })
  }
  const sample = (): void => {
    const t = sim.now() - sim.startMs
    for (const s of series) {
      let total = 0
      let count = 0
      for (const x of s.members) {
        const node = nodes.get(x)
        if (!sim.isUp(x) || node === undefined || node.stopped) continue
        total += node.liveMembers().length
        count++
      }
      if (count > 0) s.points.push([t, total / count])
    }
  }
  if (o.timeline) sim.every(sampleEveryMs, sample)
  if (healAt >= 0) {
    const stop = sim.every(periodMs, () => {
      if (sim.now() <= healAt || convergedAfterHealMs !== -1) return
      if (viewsAgree(nodes, sim).agree) {
        convergedAfterHealMs = sim.now() - healAt
        partitionEffects = false
        sim.trace.record('converged', { afterHealMs: convergedAfterHealMs })
        stop()
      }
    })
  }

  const totalVirtualSeconds = (o.warmupMs + o.durationMs) / 1000
  const runTo = (atMs: number, phase: MembershipProgress['phase']): void => {
    if (o.onProgress === undefined) { sim.runUntil(atMs); return }
    while (sim.now() < atMs) {
      sim.runUntil(Math.min(atMs, sim.now() + PROGRESS_STEP_MS))
      o.onProgress({ virtualSeconds: (sim.now() - sim.startMs) / 1000, totalVirtualSeconds, wallSeconds: (performance.now() - wallStart) / 1000, phase })
    }
  }
  runTo(measureStart, 'warm-up')
  const net0 = sim.network.stats()
  let memberMs = 0
  // integrate up-members over the window, one period at a time, for the per-member rates
  const stopCount = sim.every(periodMs, () => { if (sim.now() <= measureEnd) memberMs += periodMs * countUp(sim, addresses) })
  runTo(measureEnd, 'measured')
  stopCount()
  const net1 = sim.network.stats()

  const detections: number[] = []
  const deadAll: number[] = []
  let incomplete = 0
  const finalUp = addresses.filter((x) => sim.isUp(x))
  for (const v of victims) {
    const at = crashedAt.get(v)
    if (at === undefined) continue
    const first = detectionAt.get(v)
    if (first !== undefined) detections.push((first - at) / periodMs)
    const seen = deadSeenBy.get(v)!
    if (finalUp.every((x) => seen.has(x))) deadAll.push(Math.max(...finalUp.map((x) => seen.get(x)!)) - at)
    else incomplete++
  }
  const messages = (net1.sent - net0.sent) + (net1.requests - net0.requests) + (net1.replies - net0.replies)
  const bytes = net1.bytes - net0.bytes
  const memberPeriods = memberMs / periodMs
  const view = viewsAgree(nodes, sim)
  const protocol: Record<string, number> = {}
  for (const [x, n] of nodes) {
    if (!sim.isUp(x)) continue
    const c = n.counters() as unknown as Record<string, unknown>
    for (const k of Object.keys(c)) {
      const v = c[k]
      if (typeof v === 'number') protocol[k] = k.startsWith('max') ? Math.max(protocol[k] ?? 0, v) : (protocol[k] ?? 0) + v
    }
  }
  const refutations = protocol.refutations ?? 0
  const wallSeconds = (performance.now() - wallStart) / 1000
  const virtualSeconds = (sim.now() - sim.startMs) / 1000
  const round2 = (x: number): number => Math.round(x * 100) / 100

  const report: MembershipReport = {
    scenario: 'membership',
    seed: o.seed,
    peers: o.peers,
    preset: o.preset,
    lifeguard: o.lifeguard,
    loss: o.loss,
    crashes: o.crash,
    pausingPeers: o.pause,
    probeIntervalMs: periodMs,
    warmupSeconds: o.warmupMs / 1000,
    durationSeconds: o.durationMs / 1000,
    virtualSeconds,
    wallSeconds: round2(wallSeconds),
    speedup: round2(virtualSeconds / wallSeconds),
    detection: {
      p50Periods: round2(percentile(detections, 50)),
      p99Periods: round2(percentile(detections, 99)),
      maxPeriods: round2(percentile(detections, 100)),
      samples: detections.length
    },
    deadEverywhere: {
      p50Ms: Math.round(percentile(deadAll, 50)),
      p99Ms: Math.round(percentile(deadAll, 99)),
      maxMs: Math.round(percentile(deadAll, 100)),
      samples: deadAll.length,
      incomplete
    },
    falsePositives,
    falsePositiveMembers: falseDeadMembers.size,
    falsePositivesHealthy,
    falseSuspicions,
    partitionDeaths,
    messagesPerMemberPerPeriod: round2(memberPeriods > 0 ? messages / memberPeriods : 0),
    bytesPerMemberPerSecond: Math.round(memberMs > 0 ? bytes / (memberMs / 1000) : 0),
    maxMessageBytes: net1.maxPayloadBytes,
    maxRequestBytes: net1.maxRequestPayloadBytes,
    convergedAfterHealMs,
    finalView: { live: finalUp.length, distinctChecksums: view.distinct, everyoneSeesEveryone: view.everyoneSeesEveryone },
    refutations,
    protocol,
    traceHash: sim.trace.hash(),
    traceRecords: sim.trace.count,
    simEvents: sim.eventsRun
  }
  sim.shutdown()

  if (!o.timeline) return { report }
  const title = `meshcache sim membership — ${o.peers} peers, seed ${o.seed}, ${o.lifeguard ? 'Lifeguard' : 'plain SWIM'}, loss ${o.loss}` +
    (o.crash > 0 ? `, ${o.crash} crashes` : '') + (o.pause > 0 ? `, ${o.pause} pausing` : '') + (o.partition !== undefined ? ', partition' : '')
  const svg = renderTimeline({
    title,
    series: series.map((s): TimelineSeries => ({ name: s.name, points: s.points })),
    events: timelineEvents,
    spans,
    yLabel: 'members',
    fromMs: 0,
    toMs: sim.now() - sim.startMs
  })
  return { report, svg }
}

function countUp (sim: Simulator, addresses: readonly string[]): number {
  let n = 0
  for (const x of addresses) if (sim.isUp(x)) n++
  return n
}

function viewsAgree (nodes: Map<string, MembershipNode>, sim: Simulator): { agree: boolean, distinct: number, everyoneSeesEveryone: boolean } {
  const sums = new Set<string>()
  let up = 0
  for (const [x, n] of nodes) if (sim.isUp(x) && !n.stopped) up++
  let everyone = true
  for (const [x, n] of nodes) {
    if (!sim.isUp(x) || n.stopped) continue
    sums.add(n.checksum())
    if (everyone && n.liveMembers().length !== up) everyone = false
  }
  return { agree: sums.size === 1 && everyone, distinct: sums.size, everyoneSeesEveryone: everyone }
}
