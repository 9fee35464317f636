import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'

function capture (): { io: { out: (t: string) => void, err: (t: string) => void }, out: string[], err: string[] } {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (t) => out.push(t), err: (t) => err.push(t) }, out, err }
}

describe('meshcache CLI', () => {
  it('prints help and the package version', async () => {
    const c = capture()
    expect(await main(['help'], c.io)).toBe(0)
    expect(c.out.join('')).toMatch(/meshcache start/)
    expect(await main(['--version'], c.io)).toBe(0)
    expect(c.out.at(-1)).toMatch(/^\d+\.\d+\.\d+\n$/)
  })

  it('refuses an unknown command with exit code 2', async () => {
    const c = capture()
    expect(await main(['frobnicate'], c.io)).toBe(2)
    expect(c.err.join('')).toMatch(/unknown command 'frobnicate'/)
  })
})

describe('commands of later releases', () => {
  it('say plainly that they are not implemented yet, with a non-zero exit code', async () => {
    const c = capture()
    expect(await main(['start'], c.io)).toBe(1)
    expect(c.err.join('')).toMatch(/meshcache start: not implemented in .* yet/)
  })
})
