/**
 * `meshcache sim replication --mode async|sync --peers N --seed S [--nemesis partition,crash,join,leave,pause]
 * [--json] [--history FILE] ...`: parses the flags, runs the scenario (src/sim/scenarios/replication.ts),
 * prints the report (one JSON object with --json, a table otherwise) and writes the Jepsen history.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { InvalidOptionError } from '../errors.js'
import { NEMESIS_KINDS, runReplicationScenario, type NemesisKind, type ReplicationReport, type ReplicationScenarioInit } from '../sim/scenarios/replication.js'
import { parseDuration, parseNumber, parsePeers, parseProbability, parseSeed } from '../sim/validate.js'

export const SIM_REPLICATION_HELP = `meshcache sim replication [options]

A mesh of full peers (membership, ring, replication) with clients and a nemesis, then a heal, a quiet
period and the checks: lost acknowledged writes, convergence, divergent keys, keys moved by joins, and a
fetch storm (loader calls vs misses).

Options:
  --mode async|sync         replication mode of the namespace under test (default sync)
  --peers N                 peers at the start (default 20)
  --seed S                  seed, 0..4294967295 (default: random, always printed)
  --replicas N              copies per key (default 3)
  --nemesis LIST            comma-separated faults: partition, crash, join, leave, pause (default none)
  --joiners N               peers that join with --nemesis join (default 5)
  --leavers N               peers that leave with --nemesis leave (default peers/10)
  --clients N               concurrent clients (default: peers)
  --keys N                  value keys (default 200; plus 10 counters)
  --duration SECONDS        the window with clients and faults (default 60)
  --warmup SECONDS          joining and settling first (default 20)
  --quiet SECONDS           after the heal (default 60)
  --preset lan|local|wan    membership timing preset (default lan)
  --latency MS, --jitter MS link latency and mean extra latency (default 1, 1)
  --loss P                  datagram loss probability (default 0)
  --no-fetch-storm          skip the fetch storm
  --json                    print one JSON report on stdout
  --history FILE            write the operation history (Jepsen format, JSON lines)
  --seeds FROM:TO           run every seed of the range: one line per seed (a JSON report per line with
                            --json), then a summary (lost writes, divergent keys, convergence)
`

export interface ReplicationArgs {
  options: ReplicationScenarioInit
  json: boolean
  history?: string
  seedGiven: boolean
  /** --seeds FROM:TO: run every seed in the range and summarise. */
  seeds?: { from: number, to: number }
}

const VALUE_FLAGS = new Set(['mode', 'peers', 'seed', 'seeds', 'replicas', 'nemesis', 'joiners', 'leavers', 'clients', 'keys', 'duration', 'warmup', 'quiet',
  'preset', 'latency', 'jitter', 'loss', 'history'])

function whole (name: string, text: string, min = 0): number {
  const v = parseNumber(name, text)
  if (!Number.isSafeInteger(v) || v < min) throw new InvalidOptionError(`${name} must be a whole number >= ${min}, got ${JSON.stringify(text)}`)
  return v
}

/** Parses the flags after `sim replication`; throws InvalidOptionError with a message for the user. */
export function parseReplicationArgs (argv: readonly string[], randomSeed: () => number, base: ReplicationScenarioInit = {}): ReplicationArgs {
  const o: ReplicationScenarioInit = { ...base }
  let json = false
  let history: string | undefined
  let seeds: { from: number, to: number } | undefined
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]
    if (!token.startsWith('--')) throw new InvalidOptionError(`unexpected argument ${JSON.stringify(token)} (see 'meshcache sim replication --help')`)
    const eq = token.indexOf('=')
    const name = token.slice(2, eq === -1 ? undefined : eq)
    if (name === 'json') { json = true; continue }
    if (name === 'no-fetch-storm') { o.fetchStorm = false; continue }
    if (!VALUE_FLAGS.has(name)) throw new InvalidOptionError(`unknown option --${name} (see 'meshcache sim replication --help')`)
    const value = eq !== -1 ? token.slice(eq + 1) : argv[++i]
    if (value === undefined) throw new InvalidOptionError(`--${name} needs a value (see 'meshcache sim replication --help')`)
    switch (name) {
      case 'mode':
        if (value !== 'async' && value !== 'sync') throw new InvalidOptionError(`--mode must be async or sync, got ${JSON.stringify(value)}`)
        o.mode = value
        break
      case 'peers': o.peers = parsePeers(value, '--peers'); break
      case 'seed': o.seed = parseSeed(value, '--seed'); break
      case 'seeds': {
        const m = /^(\d+):(\d+)$/.exec(value)
        if (m === null) throw new InvalidOptionError(`--seeds takes FROM:TO (e.g. 1:50), got ${JSON.stringify(value)}`)
        const from = parseSeed(m[1], '--seeds')
        const to = parseSeed(m[2], '--seeds')
        if (to < from) throw new InvalidOptionError(`--seeds: ${to} is below ${from}`)
        seeds = { from, to }
        break
      }
      case 'replicas': o.replicas = whole('--replicas', value, 1); break
      case 'nemesis': {
        const list = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
        for (const n of list) if (!NEMESIS_KINDS.includes(n as NemesisKind)) throw new InvalidOptionError(`--nemesis: unknown fault ${JSON.stringify(n)}; use a comma-separated list of ${NEMESIS_KINDS.join(', ')}`)
        o.nemesis = list as NemesisKind[]
        break
      }
      case 'joiners': o.joiners = whole('--joiners', value); break
      case 'leavers': o.leavers = whole('--leavers', value); break
      case 'clients': o.clients = whole('--clients', value, 1); break
      case 'keys': o.keys = whole('--keys', value, 1); break
      case 'duration': o.durationSeconds = parseDuration(value, '--duration'); break
      case 'warmup': o.warmupSeconds = parseNumber('--warmup', value); break
      case 'quiet': o.quietSeconds = parseNumber('--quiet', value); break
      case 'preset':
        if (value !== 'lan' && value !== 'local' && value !== 'wan') throw new InvalidOptionError(`--preset must be lan, local or wan, got ${JSON.stringify(value)}`)
        o.preset = value
        break
      case 'latency': o.latencyMs = parseNumber('--latency', value); break
      case 'jitter': o.jitterMs = parseNumber('--jitter', value); break
      case 'loss': o.loss = parseProbability(value, '--loss'); break
      case 'history': history = value; break
    }
  }
  if (seeds !== undefined && (o.seed !== undefined || history !== undefined)) throw new InvalidOptionError('--seeds runs many seeds: it does not go with --seed or --history')
  const seedGiven = o.seed !== undefined
  if (o.seed === undefined) o.seed = seeds?.from ?? randomSeed()
  if (history !== undefined) o.history = true
  return { options: o, json, history, seedGiven, seeds }
}

/** Runs the scenario for the CLI; returns the text to print and writes the history file. */
export function runReplicationCli (args: ReplicationArgs): { report: ReplicationReport, text: string } {
  const run = runReplicationScenario(args.options)
  if (args.history !== undefined) writeFileSync(args.history, run.history.toJsonLines())
  const text = args.json ? JSON.stringify(run.report) + '\n' : formatReplicationReport(run.report)
  return { report: run.report, text }
}

/** A readable table of a replication report. */
export function formatReplicationReport (r: ReplicationReport): string {
  const rows: Array<[string, string]> = [
    ['mesh', `${r.peers} peers (+${r.joiners} joining, ${r.leavers} leaving), ${r.mode}, ${r.replicas} replicas, ${r.clients} clients on ${r.keys} keys`],
    ['nemesis', r.nemesis.length === 0 ? 'none' : `${r.nemesis.join(', ')} (${Object.entries(r.faults).map(([k, v]) => `${v} ${k}`).join(', ')})`],
    ['time', `${r.virtualSeconds} virtual s in ${r.wallSeconds} s wall (${r.speedup}x)`],
    ['operations', `${r.ops}: ${r.ok} ok, ${r.fail} fail, ${r.info} info; latency p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms`],
    ['lost acked writes', `${r.lostAckedWrites} of ${r.ackedWrites} acknowledged writes`],
    ['after heal', r.convergedAfterHealMs < 0 ? 'replicas did NOT all agree by the end' : `every replica of every key agrees after ${r.convergedAfterHealMs} ms`],
    ['divergent keys', `${r.divergentKeysAtEnd} at the end`],
    ['keys moved', r.keysMovedFraction === null ? 'no joins' : `${r.keysMovedFraction} of copies (ideal ${r.idealMovedFraction})`],
    ['fetch storm', r.loaderCalls === null ? 'skipped' : `${r.loaderCalls} loader calls for ${r.fetchKeys} keys; ${r.fetchMisses} of ${r.fetchCalls} fetches missed`],
    ['trace hash', `${r.traceHash} (${r.simEvents} events)`]
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n'
}

/** Reads a scenario file's options when it names the replication scenario; undefined for other scenarios. */
export function replicationScenarioFile (path: string): ReplicationScenarioInit | undefined {
  let file: Record<string, unknown>
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch (err) {
    throw new InvalidOptionError(`cannot read scenario file ${path}: ${(err as Error).message}`)
  }
  if (file.scenario !== 'replication') return undefined
  const { scenario: _s, ...rest } = file
  const known = new Set(['mode', 'peers', 'seed', 'replicas', 'nemesis', 'joiners', 'leavers', 'clients', 'keys', 'thinkMs', 'warmupSeconds',
    'durationSeconds', 'quietSeconds', 'preset', 'latencyMs', 'jitterMs', 'loss', 'fetchStorm'])
  const unknown = Object.keys(rest).filter((k) => !known.has(k))
  if (unknown.length > 0) throw new InvalidOptionError(`scenario file ${path}: unknown option(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}`)
  return rest as ReplicationScenarioInit
}

/** `meshcache sim replication ...` (argv without the scenario word); returns the exit code. */
export async function replicationCommand (argv: string[], io: { out: (t: string) => void, err: (t: string) => void }, base: ReplicationScenarioInit = {}, scenarioWord = 'replication'): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) { io.out(SIM_REPLICATION_HELP); return 0 }
  let args: ReplicationArgs
  try {
    const { randomInt } = await import('node:crypto')
    args = parseReplicationArgs(argv, () => randomInt(0, 2 ** 32 - 1), base)
  } catch (err) {
    if (err instanceof InvalidOptionError) { io.err(`meshcache sim: ${err.message}\n`); return 2 }
    throw err
  }
  if (args.seeds !== undefined) return runSeeds(args, io)
  const seed = args.options.seed!
  const kept: string[] = []
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seed') { i++; continue }
    if (argv[i].startsWith('--seed=')) continue
    kept.push(argv[i])
  }
  const replay = ['meshcache', 'sim', scenarioWord, ...kept, '--seed', String(seed)].join(' ')
  let result
  try {
    result = runReplicationCli(args)
  } catch (err) {
    if (err instanceof InvalidOptionError) { io.err(`meshcache sim: ${err.message}\n`); return 2 }
    throw err
  }
  io.out(result.text)
  const line = `seed ${seed} — replay: ${replay}\n`
  if (args.json) io.err(line); else io.out(`\n${line}${args.history !== undefined ? `history written to ${args.history}\n` : ''}`)
  return 0
}

/** `--seeds FROM:TO`: one run per seed, one line each, and a summary line. */
function runSeeds (args: ReplicationArgs, io: { out: (t: string) => void, err: (t: string) => void }): number {
  const { from, to } = args.seeds!
  let lost = 0
  let acked = 0
  let divergent = 0
  let neverConverged = 0
  let readFailures = 0
  let maxConverged = 0
  for (let seed = from; seed <= to; seed++) {
    const { report: r } = runReplicationScenario({ ...args.options, seed, history: false })
    lost += r.lostAckedWrites
    acked += r.ackedWrites
    divergent += r.divergentKeysAtEnd
    readFailures += r.finalReadFailures
    if (r.convergedAfterHealMs < 0) neverConverged++
    else maxConverged = Math.max(maxConverged, r.convergedAfterHealMs)
    io.out(args.json
      ? JSON.stringify(r) + '\n'
      : `seed ${seed}: lost ${r.lostAckedWrites}/${r.ackedWrites}, divergent ${r.divergentKeysAtEnd}, converged ${r.convergedAfterHealMs} ms, ops ${r.ok} ok ${r.fail} fail ${r.info} info, moved ${r.keysMovedFraction ?? '-'}, ${r.wallSeconds} s\n`)
  }
  const summary = `${to - from + 1} seeds: lostAckedWrites ${lost} of ${acked}, divergentKeysAtEnd ${divergent}, never converged ${neverConverged}, ` +
    `slowest convergence ${maxConverged} ms, final reads failed ${readFailures}\n`
  if (args.json) io.err(summary); else io.out(summary)
  return 0
}
