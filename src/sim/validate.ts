/**
 * Argument checks for simulator options and the `meshcache sim` command line. Each refuses an impossible
 * value with an `InvalidOptionError` whose message names the option, the accepted range and an example,
 * and returns the value (parsed, for the `parse*` variants taking command-line strings) when it is fine.
 */
import { InvalidOptionError } from '../errors.js'

function show (value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}

/** A probability in [0, 1] (loss, duplication, reordering rates). */
export function checkProbability (name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new InvalidOptionError(`${name} must be a probability between 0 and 1 (e.g. 0.01 for 1%), got ${show(value)}`)
  }
  return value
}

/** A finite number >= 0 (latencies, jitter, delays in ms). */
export function checkNonNegative (name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(`${name} must be a finite number >= 0, got ${show(value)}`)
  }
  return value
}

/** A finite number > 0 (durations, intervals). */
export function checkPositive (name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(`${name} must be a finite number > 0, got ${show(value)}`)
  }
  return value
}

/** An integer >= `min`. */
export function checkInteger (name: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidOptionError(`${name} must be an integer >= ${min}, got ${show(value)}`)
  }
  return value
}

/** A number of peers: an integer >= 1. */
export function checkPeers (value: unknown, name = 'peers'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(`${name} must be a whole number of peers >= 1 (e.g. 1000), got ${show(value)}`)
  }
  return value
}

/** A run length: a finite number > 0 (the unit is in the name: seconds for the CLI, ms in code). */
export function checkDuration (value: unknown, name = 'duration'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(`${name} must be a length of time > 0 (e.g. 600), got ${show(value)}`)
  }
  return value
}

/** A simulation seed: an integer in [0, 2^32). */
export function checkSeed (value: unknown, name = 'seed'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new InvalidOptionError(`${name} must be an integer between 0 and 4294967295 (2^32 - 1), got ${show(value)}`)
  }
  return value
}

/** Parses a command-line number strictly: the whole string must be a decimal number. */
export function parseNumber (name: string, text: string): number {
  const trimmed = text.trim()
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed)) {
    throw new InvalidOptionError(`${name} must be a number, got ${JSON.stringify(text)}`)
  }
  return Number(trimmed)
}

/** `--seed S`: an integer in [0, 2^32) (decimal, or hexadecimal with 0x). */
export function parseSeed (text: string, name = '--seed'): number {
  const trimmed = text.trim()
  const value = /^0x[0-9a-f]+$/i.test(trimmed) ? Number.parseInt(trimmed.slice(2), 16) : /^\d+$/.test(trimmed) ? Number(trimmed) : NaN
  if (Number.isNaN(value)) throw new InvalidOptionError(`${name} must be an integer between 0 and 4294967295, got ${JSON.stringify(text)}`)
  return checkSeed(value, name)
}

/** `--peers N`. */
export function parsePeers (text: string, name = '--peers'): number {
  return checkPeers(parseNumber(name, text), name)
}

/** `--loss P`. */
export function parseProbability (text: string, name = '--loss'): number {
  return checkProbability(name, parseNumber(name, text))
}

/** `--duration SECONDS`. */
export function parseDuration (text: string, name = '--duration'): number {
  return checkDuration(parseNumber(name, text), name)
}
