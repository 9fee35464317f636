import { describe, expect, it } from 'vitest'
import { presetConfig, resolveSwimConfig } from '../../src/membership/config.js'
import { InvalidOptionError } from '../../src/errors.js'

describe('membership options', () => {
  it('has lan, local and wan presets like memberlist, with derived defaults', () => {
    expect(presetConfig('lan')).toMatchObject({ probeIntervalMs: 1000, probeTimeoutMs: 500, indirectChecks: 3, lifeguard: true, gossipIntervalMs: 500, lagThresholdMs: 125 })
    expect(presetConfig('local')).toMatchObject({ probeIntervalMs: 200, probeTimeoutMs: 100 })
    expect(presetConfig('wan')).toMatchObject({ probeIntervalMs: 5000, probeTimeoutMs: 3000 })
    expect(presetConfig()).toEqual(presetConfig('lan'))
  })

  it('takes explicit knobs over the preset, and derives the probe timeout from a custom interval', () => {
    expect(resolveSwimConfig({ probeIntervalMs: 400 }, 'lan')).toMatchObject({ probeIntervalMs: 400, probeTimeoutMs: 200, leaveLingerMs: 400 })
    expect(resolveSwimConfig({ lifeguard: false, suspicionMult: 5 }, 'wan')).toMatchObject({ lifeguard: false, suspicionMult: 5, probeIntervalMs: 5000 })
  })

  it.each([
    [{ probeIntervalMs: 0 }, /probeIntervalMs must be an integer >= 1/],
    [{ probeIntervalMs: 1000, probeTimeoutMs: 1000 }, /probeTimeoutMs \(1000\) must be below probeIntervalMs/],
    [{ indirectChecks: -1 }, /indirectChecks must be an integer >= 0/],
    [{ suspicionMult: Number.NaN }, /suspicionMult must be a finite number/],
    [{ maxMetadataBytes: 5000 }, /maxMetadataBytes \(5000\) must be at most 1024/],
    [{ suspicionConfirmations: 9 }, /suspicionConfirmations must be at most 7/],
    [{ lifeguard: 'yes' as unknown as boolean }, /lifeguard must be true or false/]
  ])('refuses %o with a message that says how to fix it', (options, message) => {
    expect(() => resolveSwimConfig(options)).toThrow(InvalidOptionError)
    expect(() => resolveSwimConfig(options)).toThrow(message)
  })

  it('refuses an unknown preset', () => {
    expect(() => resolveSwimConfig({}, 'cloud' as 'lan')).toThrow(/preset must be one of lan, local, wan/)
  })
})
