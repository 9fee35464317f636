/**
 * The installed `meshcache` command (src/cli/launcher.js): it runs the compiled CLI from dist/ (built by
 * `npm install` / `npm ci` through `prepare`), and runs `sim` in a child node with a heap limit sized to
 * the machine unless the user chose one. Real processes: what a user typing `npx meshcache` gets.
 */
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

const launcher = new URL('../../src/cli/launcher.js', import.meta.url).pathname

function run (args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [launcher, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('meshcache launcher', () => {
  it('passes a refused sim option through the heap-sized child: exit code 2 and the message', () => {
    const r = run(['sim', 'membership', '--peers', '0', '--json'])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/--peers must be a whole number of peers >= 1/)
  })

  it('runs a small simulation to one JSON report, with or without a heap limit chosen by the user', () => {
    for (const env of [{}, { NODE_OPTIONS: '--max-old-space-size=512' }]) {
      const r = run(['sim', 'membership', '--peers', '5', '--duration', '5', '--warmup', '2', '--seed', '3', '--json'], env)
      expect(r.status).toBe(0)
      const report = JSON.parse(r.stdout) as { peers: number, seed: number, finalView: { live: number } }
      expect(report).toMatchObject({ peers: 5, seed: 3, finalView: { live: 5 } })
    }
  })

  it('runs other commands in place', () => {
    const r = run(['--version'])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/)
  })
})
