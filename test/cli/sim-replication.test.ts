import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { parseReplicationArgs } from '../../src/cli/sim-replication.js'

function capture (): { io: { out: (t: string) => void, err: (t: string) => void }, out: string[], err: string[] } {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (t) => out.push(t), err: (t) => err.push(t) }, out, err }
}

const quick = ['--peers', '6', '--clients', '4', '--keys', '30', '--warmup', '8', '--duration', '10', '--quiet', '5']

describe('meshcache sim replication', () => {
  it('--json prints one report with the contract fields; --history writes Jepsen JSON lines; the seed goes to stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshcache-repl-'))
    const history = join(dir, 'h.jsonl')
    const c = capture()
    const code = await main(['sim', 'replication', '--mode', 'async', ...quick, '--nemesis', 'crash,pause', '--seed', '5', '--json', '--history', history], c.io)
    expect(code).toBe(0)
    expect(c.out.length).toBe(1)
    const report = JSON.parse(c.out[0]) as Record<string, unknown>
    for (const field of ['ops', 'ok', 'fail', 'info', 'lostAckedWrites', 'convergedAfterHealMs', 'divergentKeysAtEnd', 'keysMovedFraction',
      'loaderCalls', 'fetchMisses', 'seed', 'traceHash']) {
      expect(report).toHaveProperty(field)
    }
    expect(report.seed).toBe(5)
    expect(report.mode).toBe('async')
    expect(c.err.join('')).toContain('replay: meshcache sim replication --mode async')
    const lines = readFileSync(history, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string, process: unknown })
    expect(lines.filter((l) => l.type !== 'invoke' && l.process !== 'nemesis').length).toBe(report.ops)
  })

  it('prints a readable table and runs a scenario file, flags overriding it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshcache-repl-'))
    const file = join(dir, 's.json')
    writeFileSync(file, JSON.stringify({ scenario: 'replication', mode: 'sync', peers: 5, keys: 20, warmupSeconds: 8, durationSeconds: 8, quietSeconds: 5, fetchStorm: false }))
    const c = capture()
    expect(await main(['sim', file, '--peers', '6', '--seed', '2'], c.io)).toBe(0)
    const text = c.out.join('')
    expect(text).toMatch(/mesh\s+6 peers .* sync, 3 replicas/)
    expect(text).toMatch(/lost acked writes\s+0 of/)
    expect(text).toMatch(/fetch storm\s+skipped/)
  })

  it('--seeds runs a range of seeds and summarises', async () => {
    const c = capture()
    expect(await main(['sim', 'replication', ...quick, '--no-fetch-storm', '--seeds', '3:4'], c.io)).toBe(0)
    const text = c.out.join('')
    expect(text).toMatch(/^seed 3: lost 0\//m)
    expect(text).toMatch(/^seed 4: lost 0\//m)
    expect(text).toMatch(/2 seeds: lostAckedWrites 0 of \d+, divergentKeysAtEnd 0/)
  })

  it('refuses bad flags with exit code 2 and a message naming them', async () => {
    for (const [args, message] of [
      [['--mode', 'strong'], /--mode must be async or sync/],
      [['--nemesis', 'crash,flood'], /unknown fault "flood"/],
      [['--peers', '0'], /peers/],
      [['--bogus'], /unknown option --bogus/],
      [['--seeds', '5:1'], /below/],
      [['--seeds', '1:2', '--seed', '3'], /does not go with --seed/]
    ] as const) {
      const c = capture()
      expect(await main(['sim', 'replication', ...args], c.io), args.join(' ')).toBe(2)
      expect(c.err.join(''), args.join(' ')).toMatch(message)
    }
  })

  it('parses every option', () => {
    const a = parseReplicationArgs(['--mode', 'sync', '--peers', '9', '--replicas', '2', '--joiners', '1', '--leavers', '2', '--clients', '3', '--keys', '40',
      '--duration', '12', '--warmup', '7', '--quiet', '4', '--preset', 'local', '--latency', '3', '--jitter', '2', '--loss', '0.01', '--nemesis', 'join,leave', '--no-fetch-storm'], () => 99)
    expect(a.options).toMatchObject({ mode: 'sync', peers: 9, replicas: 2, joiners: 1, leavers: 2, clients: 3, keys: 40, durationSeconds: 12, warmupSeconds: 7,
      quietSeconds: 4, preset: 'local', latencyMs: 3, jitterMs: 2, loss: 0.01, nemesis: ['join', 'leave'], fetchStorm: false, seed: 99 })
    expect(a.seedGiven).toBe(false)
  })
})
