/**
 * The local store's reports to its hooks: `onRemove(key, reason)` for every value that leaves, and
 * `onEntryChange(key, before, after)` for every change of what is held for a key (replication keeps its
 * incremental Merkle digests from these). Reports are queued while the store changes and delivered by
 * `flush` at the end of the public call, once the store is consistent again (lru-cache's `dispose` after
 * the operation, not during it), so a hook may call the store.
 *
 * Invariants: reports are delivered once each, in the order they were queued, both kinds in one queue;
 * a hook that throws does not stop the others: `flush` delivers every report, then rethrows the first
 * error. Nothing is queued for a hook that is not installed, so without hooks the queue stays empty and
 * the store's hot paths pay one branch per change.
 */
import type { EntryVersion, RemovalReason } from './options.js'

export class Notifier {
  /** `onRemove` is installed. */
  readonly removals: boolean
  /** `onEntryChange` is installed. */
  readonly changes: boolean
  readonly #onRemove: ((key: string, reason: RemovalReason) => void) | undefined
  readonly #onEntryChange: ((key: string, before: EntryVersion | null, after: EntryVersion | null) => void) | undefined
  // One report per index: a removal (reason not null) or a change (reason null; before, after).
  readonly #keys: string[] = []
  readonly #reasons: Array<RemovalReason | null> = []
  readonly #before: Array<EntryVersion | null> = []
  readonly #after: Array<EntryVersion | null> = []
  #head = 0

  constructor (onRemove: ((key: string, reason: RemovalReason) => void) | undefined,
    onEntryChange: ((key: string, before: EntryVersion | null, after: EntryVersion | null) => void) | undefined) {
    this.#onRemove = onRemove
    this.#onEntryChange = onEntryChange
    this.removals = onRemove !== undefined
    this.changes = onEntryChange !== undefined
  }

  /** Reports are waiting for `flush`. */
  get pending (): boolean { return this.#keys.length > 0 }

  /** Queues `onRemove(key, reason)` (if installed). */
  removed (key: string, reason: RemovalReason): void {
    if (!this.removals) return
    this.#keys.push(key)
    this.#reasons.push(reason)
    this.#before.push(null)
    this.#after.push(null)
  }

  /** Queues `onEntryChange(key, before, after)`; call only when `changes`. */
  changed (key: string, before: EntryVersion | null, after: EntryVersion | null): void {
    this.#keys.push(key)
    this.#reasons.push(null)
    this.#before.push(before)
    this.#after.push(after)
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
        const reason = reasons[i]
        if (reason !== null) this.#onRemove!(keys[i], reason)
        else this.#onEntryChange!(keys[i], this.#before[i], this.#after[i])
      } catch (e) {
        if (!failed) { failed = true; error = e }
      }
    }
    keys.length = 0
    reasons.length = 0
    this.#before.length = 0
    this.#after.length = 0
    this.#head = 0
    if (failed) throw error
  }
}
