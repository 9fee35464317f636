import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { parseSimArgs, replayCommand } from '../../src/cli/sim.js'

function capture (): { io: { out: (t: string) => void, err: (t: string) => void }, out: string[], err: string[] } {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (t) => out.push(t), err: (t) => err.push(t) }, out, err }
}

describe('meshcache sim', () => {
  it('--json prints exactly one JSON report with the contract fields, and the seed on stderr', async () => {
    const c = capture()
    const code = await main(['sim', 'membership', '--peers', '12', '--duration', '30', '--warmup', '10', '--crash', '1', '--seed', '42', '--json'], c.io)
    expect(code).toBe(0)
    expect(c.out.length).toBe(1)
    const report = JSON.parse(c.out[0]) as Record<string, unknown>
    for (const field of ['seed', 'peers', 'virtualSeconds', 'wallSeconds', 'speedup', 'detection', 'deadEverywhere', 'falsePositives',
      'messagesPerMemberPerPeriod', 'bytesPerMemberPerSecond', 'maxMessageBytes', 'convergedAfterHealMs', 'traceHash']) {
      expect(report).toHaveProperty(field)
    }
    expect(report.seed).toBe(42)
    expect(c.err.join('')).toContain('meshcache sim membership --peers 12 --duration 30 --warmup 10 --crash 1 --json --seed 42')
  })

  it('prints a table and writes the SVG timeline without --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshcache-sim-'))
    const svg = join(dir, 't.svg')
    const c = capture()
    expect(await main(['sim', 'membership', '--peers', '8', '--duration', '20', '--warmup', '5', '--seed', '1', '--svg', svg], c.io)).toBe(0)
    expect(c.out.join('')).toMatch(/detection\s+no crashes/)
    expect(c.out.join('')).toContain('replay: meshcache sim')
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg/)
  })

  it('reads a scenario file and lets flags override it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshcache-sim-'))
    const file = join(dir, 's.json')
    writeFileSync(file, JSON.stringify({ scenario: 'membership', peers: 300, loss: 0.05, seed: 9 }))
    const args = parseSimArgs([file, '--peers', '10'], () => 1)
    expect(args.options).toMatchObject({ peers: 10, loss: 0.05, seed: 9 })
  })

  it('refuses a scenario file with an unknown option instead of ignoring it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshcache-sim-'))
    const file = join(dir, 's.json')
    writeFileSync(file, JSON.stringify({ scenario: 'membership', peer: 300 }))
    expect(() => parseSimArgs([file], () => 1)).toThrow(/unknown option\(s\) peer/)
  })

  it('chooses a seed when none is given and prints how to replay it', () => {
    const args = parseSimArgs(['membership', '--partition'], () => 1234)
    expect(args.options.seed).toBe(1234)
    expect(args.options.partition).toEqual({ atSeconds: 150, healSeconds: 300 })
    expect(replayCommand(['membership', '--partition'], 1234)).toBe('meshcache sim membership --partition --seed 1234')
  })

  it('prints progress to stderr with --progress, and keeps stdout one JSON report', async () => {
    const c = capture()
    expect(await main(['sim', 'membership', '--peers', '8', '--duration', '15', '--warmup', '5', '--seed', '2', '--json', '--progress'], c.io)).toBe(0)
    expect(c.out).toHaveLength(1)
    expect(JSON.parse(c.out[0])).toMatchObject({ peers: 8, seed: 2 })
    const lines = c.err.join('').split('\n').filter((l) => l.includes('virtual s'))
    expect(lines[0]).toMatch(/^meshcache sim: 5\/20 virtual s \(warm-up\), \d+ s wall$/)
    expect(lines.at(-1)).toMatch(/^meshcache sim: 20\/20 virtual s \(measured\)/)
    expect(parseSimArgs(['membership'], () => 1).progress).toBe(false)
  })

  it('refuses impossible options with exit code 2 and a clear message', async () => {
    for (const [argv, message] of [
      [['sim', 'membership', '--loss', '2'], /--loss must be a probability/],
      [['sim', 'membership', '--peers', '0'], /--peers must be/],
      [['sim', 'membership', '--partition', '9:3'], /heal after it starts/],
      [['sim', 'membership', '--frobnicate'], /unknown option --frobnicate/],
      [['sim', 'nosuch'], /unknown scenario 'nosuch'/],
      [['sim'], /name a scenario/]
    ] as const) {
      const c = capture()
      expect(await main([...argv], c.io)).toBe(2)
      expect(c.err.join('')).toMatch(message)
    }
  })
})
