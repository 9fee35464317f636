/**
 * Expected failures are classes with a stable `code` that callers can switch on (js-libp2p's errors.ts,
 * ringpop's typed errors). Broken invariants are not errors of this kind: they are assertions.
 */
export class MeshcacheError extends Error {
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.name = new.target.name
    this.code = code
  }
}

/** An option passed to a constructor or factory is invalid; the message says how to fix it. */
export class InvalidOptionError extends MeshcacheError {
  constructor (message: string) { super('ERR_INVALID_OPTION', message) }
}

/** A value (or key) is larger than the limit that applies to it; nothing was stored. */
export class ValueTooLargeError extends MeshcacheError {
  readonly size: number
  readonly limit: number
  constructor (what: string, size: number, limit: number) {
    super('ERR_VALUE_TOO_LARGE', `${what} is ${size} bytes, over the limit of ${limit} bytes`)
    this.size = size
    this.limit = limit
  }
}

/** A key is empty, too long or otherwise unusable. */
export class InvalidKeyError extends MeshcacheError {
  constructor (message: string) { super('ERR_INVALID_KEY', message) }
}

/** Assertion for invariants: a failure is a bug in meshcache, never a user error. */
export function invariant (condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`meshcache invariant violated: ${message}`)
}
