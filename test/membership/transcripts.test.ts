import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { formatTranscript, parseTranscript, runTranscript } from './transcript-runner.js'

const dir = join(dirname(fileURLToPath(import.meta.url)), 'transcripts')
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()

describe('membership golden transcripts', () => {
  it('has transcripts to run', () => {
    expect(files.length).toBeGreaterThanOrEqual(4)
  })

  for (const file of files) {
    it(file, () => {
      const path = join(dir, file)
      const text = readFileSync(path, 'utf8')
      const { header, blocks } = parseTranscript(text)
      const actual = formatTranscript(header, runTranscript(blocks))
      if (process.env.UPDATE_TRANSCRIPTS === '1') writeFileSync(path, actual)
      else expect(actual).toBe(text)
    })
  }

  it('parses and prints the format exactly', () => {
    const text = '# hello\n\ntick 1\n----\n+1.000s n1: n2 joined (new-member) inc=0\n\nexpect converged\n----\nok\n'
    const { header, blocks } = parseTranscript(text)
    expect(header).toEqual(['# hello'])
    expect(blocks).toEqual([{ command: 'tick 1', expected: '+1.000s n1: n2 joined (new-member) inc=0' }, { command: 'expect converged', expected: 'ok' }])
    expect(formatTranscript(header, blocks)).toBe(text)
  })
})
