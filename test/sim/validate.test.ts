import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../src/errors.js'
import { checkDuration, checkPeers, checkProbability, checkSeed, parseDuration, parsePeers, parseProbability, parseSeed } from '../../src/sim/index.js'

describe('sim option checks', () => {
  it('accepts valid values and returns them', () => {
    expect(checkProbability('loss', 0)).toBe(0)
    expect(checkProbability('loss', 1)).toBe(1)
    expect(checkPeers(1)).toBe(1)
    expect(checkDuration(0.5)).toBe(0.5)
    expect(checkSeed(0)).toBe(0)
    expect(checkSeed(4294967295)).toBe(4294967295)
  })

  it('refuses impossible values with a message naming the option and the range', () => {
    expect(() => checkProbability('--loss', 1.01)).toThrow(/--loss must be a probability between 0 and 1/)
    expect(() => checkProbability('--loss', Number.NaN)).toThrow(InvalidOptionError)
    expect(() => checkPeers(0)).toThrow(/peers must be a whole number of peers >= 1/)
    expect(() => checkPeers(2.5)).toThrow(InvalidOptionError)
    expect(() => checkDuration(0)).toThrow(/duration must be a length of time > 0/)
    expect(() => checkDuration(Infinity)).toThrow(InvalidOptionError)
    expect(() => checkSeed(2 ** 32)).toThrow(/seed must be an integer between 0 and 4294967295/)
    expect(() => checkSeed(-1)).toThrow(InvalidOptionError)
    expect(() => checkSeed(1.5)).toThrow(InvalidOptionError)
  })

  it('parses command-line strings strictly', () => {
    expect(parseSeed('42')).toBe(42)
    expect(parseSeed('0xdeadbeef')).toBe(0xdeadbeef)
    expect(() => parseSeed('12abc')).toThrow(/--seed must be an integer/)
    expect(() => parseSeed('-1')).toThrow(InvalidOptionError)
    expect(parsePeers('1000')).toBe(1000)
    expect(() => parsePeers('10x')).toThrow(/--peers must be a number, got "10x"/)
    expect(() => parsePeers('')).toThrow(InvalidOptionError)
    expect(parseProbability('0.05')).toBe(0.05)
    expect(parseProbability('1e-3')).toBe(0.001)
    expect(() => parseProbability('5%')).toThrow(/--loss must be a number/)
    expect(parseDuration('600')).toBe(600)
    expect(() => parseDuration('-5')).toThrow(/--duration must be a length of time > 0/)
  })
})
