/**
 * The local store's reports to its hook: `onRemove(key, reason)` for every value that leaves. Reports
 * are queued while the store changes and delivered by `flush` at the end of the public call, once the
 * store is consistent again (lru-cache's `dispose` after the operation, not during it), so a hook may
 * call the store.
 *
 * Invariants: reports are delivered once each, in the order they were queued; a hook that throws does
 * not stop the others: `flush` delivers every report, then rethrows the first error. Nothing is queued
 * for a hook that is not installed, so without hooks the queue stays empty.
 */
import type { RemovalReason } from './options.js'

export class Notifier {
  /** `onRemove` is installed. */
  readonly removals: boolean
  readonly #onRemove: ((key: string, reason: RemovalReason) => void) | undefined
  readonly #keys: string[] = []
  readonly #reasons: RemovalReason[] = []
  #head = 0

  constructor (onRemove: ((key: string, reason: RemovalReason) => void) | undefined) {
    this.#onRemove = onRemove
    this.removals = onRemove !== undefined
  }

  /** Reports are waiting for `flush`. */
  get pending (): boolean { return this.#keys.length > 0 }

  /** Queues `onRemove(key, reason)` (if installed). */
  removed (key: string, reason: RemovalReason): void {
    if (!this.removals) return
    this.#keys.push(key)
    this.#reasons.push(reason)
  }

  /** Delivers every queued report, in order; rethrows the first error after delivering all of them. */
  flush (): void {
    const keys = this.#keys
    if (keys.length === 0) return
    const reasons = this.#reasons
    let error: unknown
    let failed = false
    while (this.#head < keys.length) {
      const i = this.#head++
      try {
        this.#onRemove!(keys[i], reasons[i])
      } catch (e) {
        if (!failed) { failed = true; error = e }
      }
    }
    keys.length = 0
    reasons.length = 0
    this.#head = 0
    if (failed) throw error
  }
}
