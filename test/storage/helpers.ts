/** Shared helpers for the storage tests. */
import { ManualClock } from '../../src/env/clock.js'
import { LocalStore, type LocalStoreInit, type RemovalReason } from '../../src/storage/index.js'

/** `n` bytes, all equal to `fill`. */
export function bytes (n: number, fill = n & 0xff): Uint8Array {
  return new Uint8Array(n).fill(fill)
}

export interface Harness {
  store: LocalStore
  clock: ManualClock
  /** Every onRemove call, as `key:reason`. */
  removed: string[]
  removedWith: (reason: RemovalReason) => string[]
}

/** A store on a ManualClock (starting at 1,000,000 ms) that records every onRemove call. */
export function harness (init: Partial<LocalStoreInit> = {}): Harness {
  const clock = new ManualClock(1_000_000)
  const removed: string[] = []
  const store = new LocalStore({
    clock,
    writerId: 'peer-a',
    onRemove: (key, reason) => { removed.push(`${key}:${reason}`) },
    ...init
  })
  return {
    store,
    clock,
    removed,
    removedWith: (reason) => removed.filter((r) => r.endsWith(`:${reason}`)).map((r) => r.slice(0, -(reason.length + 1)))
  }
}

export function text (value: Uint8Array | undefined): string | undefined {
  return value === undefined ? undefined : new TextDecoder().decode(value)
}

export function utf8 (s: string): Uint8Array {
  return new TextEncoder().encode(s)
}
