/**
 * `meshcache sim SCENARIO [options]`: runs a deterministic simulation and prints its report.
 *
 * SCENARIO is a scenario name (`membership`) or a JSON file (see simulations/) holding
 * `{ "scenario": "membership", ...options }`; flags given on the command line override the file.
 * `--json` prints exactly one JSON report on stdout; otherwise a readable table, and an SVG timeline is
 * written. The seed is always printed (stderr with --json) with the command that replays the run.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { InvalidOptionError } from '../errors.js'
import { parseDuration, parsePeers, parseProbability, parseSeed, parseNumber } from '../sim/validate.js'
import { runMembershipScenario } from '../sim/scenarios/membership.js'
import type { MembershipProgress, MembershipReport, MembershipScenarioInit } from '../sim/scenarios/membership.js'
import type { CliIo } from './main.js'

export const SIM_HELP = `meshcache sim SCENARIO [options]

Scenarios:
  membership                SWIM + Lifeguard membership on a simulated network
  replication               full peers with clients and a nemesis: lost writes, convergence, rebalancing,
                            fetch storm ('meshcache sim replication --help' for its options)
  FILE.json                 a scenario file ({"scenario": "membership" or "replication", ...options}); flags override it

Options:
  --peers N                 number of peers (default 100)
  --seed S                  seed, 0..4294967295 (default: random, always printed)
  --loss P                  datagram loss probability in [0, 1] (default 0)
  --crash N                 peers that crash during the run (default 0)
  --pause N                 peers whose event loop stalls 2-5 s now and then (default 0)
  --partition [AT:HEAL]     split the mesh 50/50 at AT s and heal at HEAL s (default 1/4 and 1/2 of the run)
  --no-lifeguard            plain SWIM, for comparison
  --duration SECONDS        measured window in virtual seconds (default 600)
  --warmup SECONDS          joining and settling before the window (default 60)
  --preset lan|local|wan    membership timing preset (default lan)
  --latency MS              one-way link latency (default 1)
  --jitter MS               mean extra random latency (default 1)
  --json                    print one JSON report on stdout
  --progress                print how far the run is to stderr every 10 virtual seconds
  --svg FILE                where to write the SVG timeline (default meshcache-sim-SCENARIO-SEED.svg;
                            written unless --json is given without --svg)
  --history FILE            operation history (key-value scenarios; not produced by membership)
`

interface SimArgs {
  scenario: string
  options: MembershipScenarioInit
  json: boolean
  svg?: string
  history?: string
  seedGiven: boolean
  /** Print how far the run is to stderr every 10 virtual seconds. */
  progress: boolean
}

const SCENARIO_FILE_KEYS = new Set(['peers', 'seed', 'loss', 'crash', 'pause', 'partition', 'lifeguard', 'durationSeconds',
  'warmupSeconds', 'preset', 'latencyMs', 'jitterMs'])

const VALUE_FLAGS = new Set(['peers', 'seed', 'loss', 'crash', 'pause', 'duration', 'warmup', 'preset', 'latency', 'jitter', 'svg', 'history'])

/** Parses the arguments after `sim`; throws InvalidOptionError with a message for the user. */
export function parseSimArgs (argv: readonly string[], randomSeed: () => number): SimArgs {
  const positional: string[] = []
  const flags = new Map<string, string | true>()
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]
    if (!token.startsWith('--')) { positional.push(token); continue }
    const eq = token.indexOf('=')
    const name = token.slice(2, eq === -1 ? undefined : eq)
    if (VALUE_FLAGS.has(name)) {
      const value = eq !== -1 ? token.slice(eq + 1) : argv[++i]
      if (value === undefined) throw new InvalidOptionError(`--${name} needs a value (see 'meshcache sim --help')`)
      flags.set(name, value)
    } else if (name === 'partition') {
      const next = eq !== -1 ? token.slice(eq + 1) : argv[i + 1]
      if (next !== undefined && /^\d/.test(next)) { flags.set(name, next); if (eq === -1) i++ } else flags.set(name, true)
    } else if (name === 'json' || name === 'no-lifeguard' || name === 'progress') {
      flags.set(name, true)
    } else {
      throw new InvalidOptionError(`unknown option --${name} (see 'meshcache sim --help')`)
    }
  }
  if (positional.length !== 1) {
    throw new InvalidOptionError(positional.length === 0 ? 'name a scenario, e.g. meshcache sim membership' : `one scenario at a time, got ${positional.join(' ')}`)
  }
  let scenario = positional[0]
  let options: MembershipScenarioInit = {}
  if (scenario.endsWith('.json')) {
    let file: Record<string, unknown>
    try {
      file = JSON.parse(readFileSync(scenario, 'utf8')) as Record<string, unknown>
    } catch (err) {
      throw new InvalidOptionError(`cannot read scenario file ${scenario}: ${(err as Error).message}`)
    }
    if (typeof file.scenario !== 'string') throw new InvalidOptionError(`scenario file ${scenario} must name its "scenario" (e.g. "membership")`)
    scenario = file.scenario
    const { scenario: _ignored, ...rest } = file
    const unknown = Object.keys(rest).filter((k) => !SCENARIO_FILE_KEYS.has(k))
    if (unknown.length > 0) {
      throw new InvalidOptionError(`scenario file ${scenario}: unknown option(s) ${unknown.join(', ')}; known: ${[...SCENARIO_FILE_KEYS].join(', ')}`)
    }
    options = rest as MembershipScenarioInit
  }
  if (scenario !== 'membership') throw new InvalidOptionError(`unknown scenario '${scenario}'; available: membership, replication`)

  const str = (k: string): string | undefined => { const v = flags.get(k); return typeof v === 'string' ? v : undefined }
  if (str('peers') !== undefined) options.peers = parsePeers(str('peers')!, '--peers')
  if (str('loss') !== undefined) options.loss = parseProbability(str('loss')!, '--loss')
  if (str('crash') !== undefined) options.crash = wholeNumber('--crash', str('crash')!)
  if (str('pause') !== undefined) options.pause = wholeNumber('--pause', str('pause')!)
  if (str('duration') !== undefined) options.durationSeconds = parseDuration(str('duration')!, '--duration')
  if (str('warmup') !== undefined) options.warmupSeconds = parseNumber('--warmup', str('warmup')!)
  if (str('latency') !== undefined) options.latencyMs = parseNumber('--latency', str('latency')!)
  if (str('jitter') !== undefined) options.jitterMs = parseNumber('--jitter', str('jitter')!)
  if (str('preset') !== undefined) options.preset = str('preset') as MembershipScenarioInit['preset']
  if (flags.has('no-lifeguard')) options.lifeguard = false
  const seedGiven = str('seed') !== undefined || options.seed !== undefined
  if (str('seed') !== undefined) options.seed = parseSeed(str('seed')!, '--seed')
  if (options.seed === undefined) options.seed = randomSeed()
  const partition = flags.get('partition')
  if (partition !== undefined) {
    const duration = options.durationSeconds ?? 600
    if (partition === true) {
      options.partition = { atSeconds: Math.round(duration / 4), healSeconds: Math.round(duration / 2) }
    } else {
      const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(partition)
      if (m === null) throw new InvalidOptionError(`--partition takes AT:HEAL in seconds (e.g. 120:300), got ${JSON.stringify(partition)}`)
      options.partition = { atSeconds: Number(m[1]), healSeconds: Number(m[2]) }
    }
  }
  if (str('history') !== undefined) {
    throw new InvalidOptionError('--history records client operations; the membership scenario has none (key-value scenarios will write it)')
  }
  return { scenario, options, json: flags.has('json'), svg: str('svg'), seedGiven, progress: flags.has('progress') }
}

function wholeNumber (name: string, text: string): number {
  const v = parseNumber(name, text)
  if (!Number.isSafeInteger(v) || v < 0) throw new InvalidOptionError(`${name} must be a whole number >= 0, got ${JSON.stringify(text)}`)
  return v
}

/** The command line that replays a run: the scenario, every option given, and the seed. */
export function replayCommand (argv: readonly string[], seed: number): string {
  const kept: string[] = []
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seed') { i++; continue }
    if (argv[i].startsWith('--seed=')) continue
    kept.push(argv[i])
  }
  return ['meshcache', 'sim', ...kept, '--seed', String(seed)].join(' ')
}

export async function simCommand (argv: string[], io: CliIo): Promise<number> {
  const first = argv.findIndex((a) => !a.startsWith('--'))
  const scenario = first >= 0 ? argv[first] : undefined
  if (scenario === 'replication' || (scenario !== undefined && scenario.endsWith('.json'))) {
    const { replicationCommand, replicationScenarioFile } = await import('./sim-replication.js')
    const rest = argv.filter((_, i) => i !== first)
    if (scenario === 'replication') return await replicationCommand(rest, io)
    let base
    try {
      base = replicationScenarioFile(scenario)
    } catch (err) {
      if (err instanceof InvalidOptionError) { io.err(`meshcache sim: ${err.message}\n`); return 2 }
      throw err
    }
    if (base !== undefined) return await replicationCommand(rest, io, base, scenario)
  }
  if (argv.includes('--help') || argv.includes('-h')) { io.out(SIM_HELP); return 0 }
  let args: SimArgs
  try {
    const { randomInt } = await import('node:crypto')
    args = parseSimArgs(argv, () => randomInt(0, 2 ** 32 - 1))
  } catch (err) {
    if (err instanceof InvalidOptionError) { io.err(`meshcache sim: ${err.message}\n`); return 2 }
    throw err
  }
  const seed = args.options.seed!
  const replay = replayCommand(argv, seed)
  let run
  try {
    const onProgress = args.progress
      ? (p: MembershipProgress): void => { io.err(`meshcache sim: ${p.virtualSeconds}/${p.totalVirtualSeconds} virtual s (${p.phase}), ${p.wallSeconds.toFixed(0)} s wall\n`) }
      : undefined
    run = runMembershipScenario({ ...args.options, timeline: !args.json || args.svg !== undefined, onProgress })
  } catch (err) {
    if (err instanceof InvalidOptionError) { io.err(`meshcache sim: ${err.message}\n`); return 2 }
    throw err
  }
  const svgPath = args.svg ?? (args.json ? undefined : `meshcache-sim-membership-${seed}.svg`)
  if (svgPath !== undefined && run.svg !== undefined) writeFileSync(svgPath, run.svg)
  if (args.json) {
    io.out(JSON.stringify(run.report) + '\n')
    io.err(`seed ${seed} — replay: ${replay}\n`)
  } else {
    io.out(formatMembershipReport(run.report))
    io.out(`\nseed ${seed} — replay: ${replay}\n`)
    if (svgPath !== undefined) io.out(`timeline written to ${svgPath}\n`)
  }
  return 0
}

/** A readable table of a membership report. */
export function formatMembershipReport (r: MembershipReport): string {
  const rows: Array<[string, string]> = [
    ['peers', `${r.peers} (${r.preset}, ${r.lifeguard ? 'Lifeguard' : 'plain SWIM'}, period ${r.probeIntervalMs} ms)`],
    ['faults', `loss ${r.loss}, ${r.crashes} crashes, ${r.pausingPeers} pausing peers${r.convergedAfterHealMs !== null ? ', 50/50 partition' : ''}`],
    ['virtual time', `${r.virtualSeconds} s (${r.warmupSeconds} s warm-up + ${r.durationSeconds} s measured)`],
    ['wall time', `${r.wallSeconds} s (speedup ${r.speedup}x)`],
    ['detection', r.detection.samples > 0 ? `p50 ${r.detection.p50Periods}, p99 ${r.detection.p99Periods}, max ${r.detection.maxPeriods} periods (${r.detection.samples} crashes)` : 'no crashes'],
    ['dead everywhere', r.deadEverywhere.samples > 0 || r.deadEverywhere.incomplete > 0 ? `p50 ${r.deadEverywhere.p50Ms} ms, p99 ${r.deadEverywhere.p99Ms} ms, max ${r.deadEverywhere.maxMs} ms${r.deadEverywhere.incomplete > 0 ? `, ${r.deadEverywhere.incomplete} never complete` : ''}` : 'no crashes'],
    ['false positives', `${r.falsePositives} dead declarations about live peers (${r.falsePositiveMembers} peers, ${r.falsePositivesHealthy} never stalled); ${r.falseSuspicions} suspicions refuted`],
    ['messages', `${r.messagesPerMemberPerPeriod} per member per period, ${r.bytesPerMemberPerSecond} B per member per second`],
    ['largest message', `${r.maxMessageBytes} B datagram, ${r.maxRequestBytes} B push-pull`],
    ['after heal', r.convergedAfterHealMs === null ? 'no partition' : r.convergedAfterHealMs < 0 ? 'views did NOT agree by the end of the run' : `views agree after ${r.convergedAfterHealMs} ms`],
    ['final view', `${r.finalView.live} live peers, ${r.finalView.distinctChecksums} distinct checksum(s)${r.finalView.everyoneSeesEveryone ? ', everyone sees everyone' : ''}`],
    ['trace hash', `${r.traceHash} (${r.traceRecords} records, ${r.simEvents} events)`]
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n'
}
