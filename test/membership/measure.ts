/**
 * Membership measurements on the simulator (a program, not a test): crash detection, dissemination of
 * deaths, false positives, message rates, Lifeguard under event-loop stalls, partition healing.
 * Build and run:
 *   npx tsc --outDir /tmp/mcm --lib ES2024 --module NodeNext --moduleResolution NodeNext --target ES2023 --skipLibCheck test/membership/measure.ts
 *   node /tmp/mcm/test/membership/measure.js crashes --peers 1000 --loss 0.01 --crashes 10 --duration 600 --seed 1
 *   node /tmp/mcm/test/membership/measure.js pauses --peers 200 --duration 600 --lifeguard false
 *   node /tmp/mcm/test/membership/measure.js partition --peers 1000 --seed 1
 */
import { Simulator } from '../../src/sim/index.js'
import { MembershipNode } from '../../src/node/membership-node.js'
import type { MemberEvent } from '../../src/membership/types.js'
import type { SwimOptions, MembershipPreset } from '../../src/membership/config.js'

interface Args {
  scenario: string
  peers: number
  loss: number
  crashes: number
  durationS: number
  seed: number
  lifeguard: boolean
  preset: MembershipPreset
  pauses: number
  latencyMs: number
  jitterMs: number
  partitionS: number
  options: SwimOptions
}

function parseArgs (argv: string[]): Args {
  const a: Args = {
    scenario: argv[0] ?? 'crashes', peers: 100, loss: 0.01, crashes: 10, durationS: 600, seed: 1, lifeguard: true,
    preset: 'lan', pauses: 0, latencyMs: 1, jitterMs: 2, partitionS: 60, options: {}
  }
  for (let i = 1; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '')
    const v = argv[i + 1]
    switch (k) {
      case 'peers': a.peers = Number(v); break
      case 'loss': a.loss = Number(v); break
      case 'crashes': a.crashes = Number(v); break
      case 'duration': a.durationS = Number(v); break
      case 'seed': a.seed = Number(v); break
      case 'lifeguard': a.lifeguard = v !== 'false'; break
      case 'preset': a.preset = v as MembershipPreset; break
      case 'pauses': a.pauses = Number(v); break
      case 'latency': a.latencyMs = Number(v); break
      case 'jitter': a.jitterMs = Number(v); break
      case 'partition': a.partitionS = Number(v); break
      default: (a.options as Record<string, unknown>)[k] = v === 'true' ? true : v === 'false' ? false : Number(v)
    }
  }
  return a
}

function pct (xs: number[], p: number): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((x, y) => x - y)
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]
}

const round = (x: number): number => Math.round(x * 100) / 100

function main (): void {
  const args = parseArgs(process.argv.slice(2))
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const sim = new Simulator({ seed: args.seed, link: { latencyMs: args.latencyMs, jitterMs: args.jitterMs, loss: 0 } })
  const nodes = new Map<string, MembershipNode>()
  const events: Array<{ at: string, e: MemberEvent }> = []
  const addr = (i: number): string => 'p' + String(i).padStart(4, '0')
  const seed = addr(0)
  const P = args.options.probeIntervalMs ?? (args.preset === 'lan' ? 1000 : args.preset === 'local' ? 200 : 5000)
  for (let i = 0; i < args.peers; i++) {
    const address = addr(i)
    sim.addHost(address, (ctx) => {
      const node = new MembershipNode({ ...args.options, transport: ctx.transport, clock: ctx.clock, random: ctx.random, logger: ctx.logger, preset: args.preset, lifeguard: args.lifeguard })
      nodes.set(address, node)
      node.onEvent((e) => { if (e.type !== 'joined' || sim.elapsed() > 60_000) events.push({ at: address, e }) })
      node.start()
      return { stop: () => node.stop() }
    })
  }
  // staggered joins over the first 20 s, then settle
  const joinSpreadMs = Math.min(20_000, args.peers * 20)
  for (let i = 1; i < args.peers; i++) {
    const address = addr(i)
    sim.schedule(sim.now() + Math.floor((i / args.peers) * joinSpreadMs), () => { void nodes.get(address)!.join([seed]) })
  }
  sim.runFor(60_000)
  const settled = checksums(nodes, sim)
  sim.network.setDefaults({ loss: args.loss })
  const startMs = sim.now()
  const counters0 = totals(nodes)
  const durationMs = args.durationS * 1000
  const rnd = sim.random.fork('measure')
  const crashes: Array<{ address: string, atMs: number }> = []
  const report: Record<string, unknown> = { scenario: args.scenario, peers: args.peers, seed: args.seed, loss: args.loss, lifeguard: args.lifeguard, preset: args.preset, settledViews: settled }

  if (args.scenario === 'crashes') {
    const victims = rnd.shuffle(Array.from({ length: args.peers - 1 }, (_, i) => addr(i + 1))).slice(0, args.crashes)
    for (const v of victims) {
      const at = startMs + 10_000 + rnd.int(Math.max(1, durationMs - 60_000))
      crashes.push({ address: v, atMs: at })
      sim.schedule(at, () => sim.crash(v))
    }
    sim.runFor(durationMs)
  } else if (args.scenario === 'pauses') {
    // every live peer, now and then, stalls 2-5 s: `pauses` stalls per peer over the run
    const count = args.pauses > 0 ? args.pauses : 3
    // one stall per slot of the run, so stalls of one peer never overlap (each is really 2-5 s)
    const slotMs = Math.floor((durationMs - 10_000) / count)
    for (let i = 0; i < args.peers; i++) {
      for (let k = 0; k < count; k++) {
        const at = startMs + k * slotMs + rnd.int(slotMs - 5000)
        const ms = 2000 + rnd.int(3001)
        const a = addr(i)
        sim.schedule(at, () => sim.pause(a, ms))
      }
    }
    sim.runFor(durationMs)
  } else if (args.scenario === 'partition') {
    const all = Array.from({ length: args.peers }, (_, i) => addr(i))
    const half = rnd.shuffle([...all])
    const a = half.slice(0, args.peers / 2)
    const b = half.slice(args.peers / 2)
    sim.network.partition([a, b])
    sim.runFor(args.partitionS * 1000)
    report.duringPartition = checksums(nodes, sim)
    sim.network.heal()
    const healAt = sim.now()
    let agreedAt = -1
    for (let t = 0; t < 300; t++) {
      sim.runFor(1000)
      const c = checksums(nodes, sim)
      if (c.distinct === 1 && c.allAliveEverywhere) { agreedAt = sim.now() - healAt; break }
    }
    report.healConvergedMs = agreedAt
    report.afterHeal = checksums(nodes, sim)
  }

  const elapsedMs = sim.now() - startMs
  const c1 = totals(nodes)
  const periods = elapsedMs / P
  const live = [...nodes.keys()].filter((a) => sim.isUp(a)).length
  report.messagesPerMemberPerPeriod = round((c1.messages - counters0.messages) / (args.peers * periods))
  report.bytesPerMemberPerPeriod = Math.round((c1.bytes - counters0.bytes) / (args.peers * periods))
  report.maxDatagramBytes = c1.maxDatagram
  report.perType = Object.fromEntries(Object.entries(c1.perType).map(([k, v]) => [k, round((v - (counters0.perType[k] ?? 0)) / (args.peers * periods))]))
  report.netStats = { sent: sim.network.stats().sent, maxPayloadBytes: sim.network.stats().maxPayloadBytes, requests: sim.network.stats().requests }
  report.core = Object.fromEntries(Object.entries(c1.core).filter(([k]) => !['maxDatagramBytesSent', 'messagesSent', 'bytesSent', 'messagesReceived', 'bytesReceived'].includes(k)).map(([k, v]) => [k, v - (counters0.core[k] ?? 0)]))

  // false positives: a peer marks dead a member whose host is up (and was not restarted)
  const crashedAt = new Map(crashes.map((c) => [c.address, c.atMs]))
  const fp = events.filter(({ e }) => e.type === 'dead' && !(crashedAt.has(e.member.address) && e.atMs >= crashedAt.get(e.member.address)!))
  const fpSuspect = events.filter(({ e }) => e.type === 'suspect' && !(crashedAt.has(e.member.address) && e.atMs >= crashedAt.get(e.member.address)!))
  report.falseDeadEvents = fp.length
  report.falseDeadMembers = new Set(fp.map(({ e }) => e.member.id)).size
  report.falseSuspectEvents = fpSuspect.length
  report.refutations = c1.core.refutations
  if (crashes.length > 0) {
    const detect: number[] = []
    const allDead: number[] = []
    let incomplete = 0
    for (const c of crashes) {
      const sus = events.filter(({ e }) => e.member.address === c.address && e.atMs >= c.atMs && (e.type === 'suspect' || e.type === 'dead'))
      if (sus.length > 0) detect.push((Math.min(...sus.map(({ e }) => e.atMs)) - c.atMs) / P)
      const deadAt = new Map<string, number>()
      for (const { at, e } of events) if (e.member.address === c.address && e.type === 'dead' && e.atMs >= c.atMs && !deadAt.has(at)) deadAt.set(at, e.atMs)
      const livePeers = [...nodes.keys()].filter((a) => sim.isUp(a))
      if (livePeers.every((a) => deadAt.has(a))) allDead.push(Math.max(...livePeers.map((a) => deadAt.get(a)!)) - c.atMs)
      else incomplete++
    }
    report.detectionPeriods = { p50: round(pct(detect, 0.5)), p99: round(pct(detect, 0.99)), max: round(Math.max(...detect)), n: detect.length }
    report.deadEverywhereMs = { p50: pct(allDead, 0.5), p99: pct(allDead, 0.99), max: Math.max(...allDead), n: allDead.length, incomplete }
  }
  report.live = live
  report.finalViews = checksums(nodes, sim)
  report.wallMs = Math.round(performance.now() - t0)
  const cpu = process.cpuUsage(cpu0)
  report.cpuMs = Math.round((cpu.user + cpu.system) / 1000)
  report.virtualSeconds = (sim.now() - sim.startMs) / 1000
  report.speedupCpu = round((sim.now() - sim.startMs) / ((cpu.user + cpu.system) / 1000))
  report.heapMB = Math.round(process.memoryUsage().heapUsed / 1048576)
  console.log(JSON.stringify(report, null, 1))
}

function totals (nodes: Map<string, MembershipNode>): { messages: number, bytes: number, maxDatagram: number, perType: Record<string, number>, core: Record<string, number> } {
  let messages = 0; let bytes = 0; let maxDatagram = 0
  const perType: Record<string, number> = {}
  const core: Record<string, number> = {}
  for (const n of nodes.values()) {
    const c = n.counters()
    messages += c.messagesSent; bytes += c.bytesSent
    maxDatagram = Math.max(maxDatagram, c.maxDatagramBytesSent)
    for (const [k, v] of Object.entries(c.sent)) perType[k] = (perType[k] ?? 0) + v.messages
    for (const [k, v] of Object.entries(c)) if (typeof v === 'number' && k !== 'maxLagMs') core[k] = (core[k] ?? 0) + v
  }
  return { messages, bytes, maxDatagram, perType, core }
}

function checksums (nodes: Map<string, MembershipNode>, sim: Simulator): { distinct: number, allAliveEverywhere: boolean } {
  const sums = new Set<string>()
  let allAlive = true
  const up = [...nodes.entries()].filter(([a]) => sim.isUp(a))
  for (const [, n] of up) {
    if (n.stopped) continue
    sums.add(n.checksum())
    if (n.liveMembers().length !== up.length) allAlive = false
  }
  return { distinct: sums.size, allAliveEverywhere: allAlive }
}

main()
