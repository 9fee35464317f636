/**
 * The dissemination queue: membership updates waiting to be piggybacked on outgoing messages
 * (SWIM's infection-style dissemination; the shape of memberlist's TransmitLimitedQueue in broadcast.go).
 *
 * - Each update is sent at most `limit` times (`retransmitLimit(mult, n)`), then retired.
 * - Packing takes the most important updates first: by priority class (urgent: dead, left and our own
 *   alive; then suspect; then others' alive), and inside a class the fewest-sent first (oldest first on
 *   a tie), so a fresh update overtakes ones that have already spread.
 * - There is at most one update per member: a newer update about a member replaces the older one.
 * - The queue is bounded: when full, the least useful update (lowest class, most sent) is dropped, or the
 *   new one if it is the least useful; every drop is counted.
 * - Each update is encoded once by the caller; packing copies references to those bytes, so the cost of
 *   a message is O(updates packed), never O(queue length).
 *
 * Buckets: one intrusive doubly-linked FIFO list per (class, transmits), so taking an update, moving it
 * to the next bucket and evicting are O(1) pointer moves, with no allocation.
 */
import { piggybackBytes } from '../wire/membership.js'
import type { MemberUpdate } from '../wire/membership.js'

/** 0 = urgent (dead, left, our own alive), 1 = suspect, 2 = another member's alive. */
export type UpdatePriority = 0 | 1 | 2
const CLASSES = 3

/** Updates smaller than this never exist, so a budget below it cannot take anything. */
const SMALLEST_UPDATE_BYTES = 4
/** Stop looking after this many updates in a row did not fit the space left. */
const MAX_MISFITS = 8

export class QueuedUpdate {
  readonly id: string
  readonly update: MemberUpdate
  readonly bytes: Uint8Array
  /** Bytes it takes in a datagram, length prefix included. */
  readonly size: number
  readonly priority: UpdatePriority
  transmits = 0
  /** The last pack call that took this update (so one message never carries it twice). */
  stamp = 0
  /** @internal bucket list links */
  prev: QueuedUpdate | null = null
  /** @internal */
  next: QueuedUpdate | null = null

  constructor (update: MemberUpdate, bytes: Uint8Array, priority: UpdatePriority) {
    this.id = update.id
    this.update = update
    this.bytes = bytes
    this.size = piggybackBytes(bytes)
    this.priority = priority
  }
}

/** A FIFO list of updates with the same class and transmit count. */
class Bucket {
  head: QueuedUpdate | null = null
  tail: QueuedUpdate | null = null
  size = 0

  push (e: QueuedUpdate): void {
    e.prev = this.tail
    e.next = null
    if (this.tail === null) this.head = e
    else this.tail.next = e
    this.tail = e
    this.size++
  }

  unlink (e: QueuedUpdate): void {
    if (e.prev === null) this.head = e.next
    else e.prev.next = e.next
    if (e.next === null) this.tail = e.prev
    else e.next.prev = e.prev
    e.prev = null
    e.next = null
    this.size--
  }
}

export class BroadcastQueue {
  readonly maxLength: number
  readonly #byId = new Map<string, QueuedUpdate>()
  readonly #buckets: Bucket[][] = []
  #stamp = 0
  /** Updates dropped because the queue was full. */
  drops = 0

  constructor (maxLength: number) {
    this.maxLength = maxLength
    for (let p = 0; p < CLASSES; p++) this.#buckets.push([])
  }

  get length (): number { return this.#byId.size }

  /** The queued update about a member, if any. */
  get (id: string): QueuedUpdate | undefined { return this.#byId.get(id) }

  /**
   * Queues an update (replacing any older one about the same member). Returns false when the queue was
   * full and the new update was the least useful, so it was dropped instead.
   */
  enqueue (update: MemberUpdate, bytes: Uint8Array, priority: UpdatePriority): boolean {
    const existing = this.#byId.get(update.id)
    if (existing !== undefined) this.#remove(existing)
    else if (this.#byId.size >= this.maxLength && !this.#evictFor(priority)) {
      this.drops++
      return false
    }
    const entry = new QueuedUpdate(update, bytes, priority)
    this.#byId.set(entry.id, entry)
    this.#bucket(priority, 0).push(entry)
    return true
  }

  /** Forgets the update about a member (e.g. the member was reaped). */
  remove (id: string): void {
    const e = this.#byId.get(id)
    if (e !== undefined) this.#remove(e)
  }

  /**
   * Takes the most important updates that fit in `budgetBytes` (at most `maxCount`), appends their bytes
   * to `out`, counts one transmission for each and retires those that reached `limit`. `skip` names
   * a member whose update the caller already put in the message. Returns the bytes used.
   */
  pack (budgetBytes: number, limit: number, maxCount: number, out: Uint8Array[], skip?: string): number {
    if (this.#byId.size === 0 || budgetBytes < SMALLEST_UPDATE_BYTES || maxCount <= 0) return 0
    const stamp = ++this.#stamp
    let remaining = budgetBytes
    let taken = 0
    let misfits = 0
    for (let p = 0; p < CLASSES; p++) {
      const buckets = this.#buckets[p]
      for (let t = 0; t < buckets.length; t++) {
        const bucket = buckets[t]
        let e = bucket.head
        while (e !== null) {
          const next = e.next
          if (e.stamp !== stamp) {
            if (e.transmits >= limit) {
              this.#remove(e)
            } else if (e.id !== skip) {
              if (e.size > remaining) {
                if (++misfits >= MAX_MISFITS) return budgetBytes - remaining
              } else {
                misfits = 0
                e.stamp = stamp
                out.push(e.bytes)
                remaining -= e.size
                taken++
                bucket.unlink(e)
                e.transmits++
                if (e.transmits >= limit) this.#byId.delete(e.id)
                else this.#bucket(p, e.transmits).push(e)
                if (taken >= maxCount || remaining < SMALLEST_UPDATE_BYTES) return budgetBytes - remaining
              }
            }
          }
          e = next
        }
      }
    }
    return budgetBytes - remaining
  }

  /** Every queued update, most important first (for tests and debugging; O(length)). */
  snapshot (): QueuedUpdate[] {
    const out: QueuedUpdate[] = []
    for (const buckets of this.#buckets) {
      for (const b of buckets) for (let e = b.head; e !== null; e = e.next) out.push(e)
    }
    return out
  }

  #bucket (p: number, t: number): Bucket {
    const buckets = this.#buckets[p]
    while (buckets.length <= t) buckets.push(new Bucket())
    return buckets[t]
  }

  #remove (e: QueuedUpdate): void {
    this.#byId.delete(e.id)
    this.#buckets[e.priority][e.transmits].unlink(e)
  }

  /** Drops the least useful update if it is not more useful than a new one of `priority`. */
  #evictFor (priority: UpdatePriority): boolean {
    for (let p = CLASSES - 1; p >= priority; p--) {
      const buckets = this.#buckets[p]
      for (let t = buckets.length - 1; t >= 0; t--) {
        const victim = buckets[t].head
        if (victim === null) continue
        this.#remove(victim)
        this.drops++
        return true
      }
    }
    return false
  }
}
