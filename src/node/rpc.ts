/**
 * Batched request/response between peers over the Transport's reliable channel (DESIGN.md: "use one
 * long-lived stream per peer pair with request ids, and coalesce many messages into one frame").
 *
 * Client side (`call`): every item for a destination made in the same turn of the event loop (the same
 * simulator event; the same macrotask for real peers) is coalesced into one `batch` frame, cut at
 * `maxBatchItems` items or `maxBatchBytes` bytes; at most `maxInFlightBatches` batches per destination
 * are outstanding, the rest wait (back-pressure), and at most `maxQueuedItems` items wait per destination
 * — beyond that a call is refused at once with `overloaded` (bounded memory, counted, never silent).
 * The reply batch holds one reply per item, in order. An item the server answered `overloaded` because
 * the reply batch would not fit a frame is sent again on its own, once.
 *
 * Server side (`serve`): a batch is split into items; each is decoded on its own (a malformed item gets
 * an `error` reply, the others are served), handed to the handler, and the reply batch goes back when
 * every item answered. A frame that cannot be read at all gets a `batch-error` frame. Both are counted
 * by reason and logged once per (reason, sender).
 *
 * Callbacks never run inside `call`: immediate failures are delivered from a zero-delay timer.
 */
import type { Clock, TimerHandle } from '../env/clock.js'
import { logOnce, type Logger } from '../env/logger.js'
import type { Address, Transport, TransportError } from '../transport/transport.js'
import { DecodeError, DEFAULT_WIRE_LIMITS, EncodeError, type WireLimits } from '../wire/codec.js'
import {
  decodeBatch, decodeReplyItem, decodeRequestItem, encodeBatch, encodeBatchError, encodeReplyItem, encodeRequestItem,
  type ReplyItem, type RequestItem
} from '../wire/replication.js'
import type { CallCallback, CallFailure, CallOptions } from '../replication/context.js'

export interface RpcInit {
  transport: Transport
  clock: Clock
  logger: Logger
  limits?: WireLimits
  /** Timeout of a batch of replica items (reads, writes, transfers, anti-entropy), in ms. */
  requestTimeoutMs: number
  /**
   * Timeout of a batch of client items forwarded to a coordinator (`client`, `fill`), which may wait on
   * replicas of their own, in ms. @default 5 × requestTimeoutMs
   */
  slowRequestTimeoutMs?: number
  /** Items per batch at most. @default 256 */
  maxBatchItems?: number
  /** Bytes of items per batch at most. @default 1 MiB */
  maxBatchBytes?: number
  /** Batches outstanding per destination at most. @default 4 */
  maxInFlightBatches?: number
  /** Items waiting per destination at most; more are refused with `overloaded`. @default 10000 */
  maxQueuedItems?: number
  /** The transport address of a peer id. */
  addressOf: (peer: string) => Address
}

export interface RpcCounters {
  batchesSent: number
  itemsSent: number
  bytesSent: number
  batchesReceived: number
  itemsReceived: number
  bytesReceived: number
  /** Calls refused because the destination's queue was full. */
  overloaded: number
  /** Calls whose item could not be encoded (over a limit). */
  encodeErrors: number
  /** Items sent again alone after a reply batch overflowed. */
  resentAlone: number
  /** Inbound items answered ERR_TIMEOUT because they did not finish before their batch's deadline. */
  itemsTimedOut: number
  /** Failed batches, by reason. */
  failures: Partial<Record<CallFailure, number>>
  /** Inbound frames or items refused, by reason. */
  malformed: Record<string, number>
}

interface Pending { bytes: Uint8Array, cb: CallCallback, resent: boolean }

/** Replica items travel in the fast lane; items a coordinator answers after calls of its own, in the slow lane. */
type Lane = 'fast' | 'slow'

interface Destination {
  address: Address
  lane: Lane
  timeoutMs: number
  queue: Pending[]
  queuedBytes: number
  inFlight: number
}

const OVERLOADED_REPLY: ReplyItem = { type: 'status', status: 'overloaded' }
/** Type bytes of the request items that travel in the slow lane (see `Lane`). */
const CLIENT_ITEM = 0x03
const FILL_ITEM = 0x05

export class BatchingRpc {
  readonly #transport: Transport
  readonly #clock: Clock
  readonly #limits: WireLimits
  readonly #timeoutMs: number
  readonly #slowTimeoutMs: number
  readonly #maxItems: number
  readonly #maxBytes: number
  readonly #maxInFlight: number
  readonly #maxQueued: number
  readonly #addressOf: (peer: string) => Address
  readonly #warnOnce: (key: string, msg: string, fields?: Record<string, unknown>) => void
  readonly #dests = new Map<Address, Destination>()
  readonly #dirty = new Set<Destination>()
  #flushTimer: TimerHandle | undefined
  #closed = false
  readonly counters: RpcCounters = {
    batchesSent: 0, itemsSent: 0, bytesSent: 0, batchesReceived: 0, itemsReceived: 0, bytesReceived: 0,
    overloaded: 0, encodeErrors: 0, resentAlone: 0, itemsTimedOut: 0, failures: {}, malformed: {}
  }

  constructor (init: RpcInit) {
    this.#transport = init.transport
    this.#clock = init.clock
    this.#limits = init.limits ?? DEFAULT_WIRE_LIMITS
    this.#timeoutMs = init.requestTimeoutMs
    this.#slowTimeoutMs = init.slowRequestTimeoutMs ?? 5 * init.requestTimeoutMs
    this.#maxItems = init.maxBatchItems ?? 256
    this.#maxBytes = Math.min(init.maxBatchBytes ?? 1024 * 1024, this.#limits.maxFrameBytes - 64)
    this.#maxInFlight = init.maxInFlightBatches ?? 4
    this.#maxQueued = init.maxQueuedItems ?? 10_000
    this.#addressOf = init.addressOf
    this.#warnOnce = logOnce(init.logger)
  }

  /** Items waiting to be sent, over all destinations. */
  get queued (): number {
    let n = 0
    for (const d of this.#dests.values()) n += d.queue.length
    return n
  }

  /** Sends one request item to `peer`; `cb` exactly once, never synchronously. */
  call (peer: string, item: RequestItem, cb: CallCallback, options?: CallOptions): void {
    if (this.#closed) { this.#later(cb, 'closed', 'the peer is stopped'); return }
    let bytes: Uint8Array
    try {
      bytes = encodeRequestItem(item, this.#limits)
    } catch (err) {
      if (!(err instanceof EncodeError)) throw err
      this.counters.encodeErrors++
      this.#later(cb, 'encode', err.message)
      return
    }
    const address = this.#addressOf(peer)
    const lane: Lane = item.type === 'client' || item.type === 'fill' ? 'slow' : 'fast'
    const dest = this.#dest(address, lane)
    if (options?.solo === true || options?.timeoutMs !== undefined) {
      this.#send(dest, [{ bytes, cb, resent: false }], options.timeoutMs ?? dest.timeoutMs, false)
      return
    }
    if (dest.queue.length >= this.#maxQueued) {
      this.counters.overloaded++
      this.#later(cb, 'overloaded', `more than ${this.#maxQueued} requests wait for ${address}`)
      return
    }
    dest.queue.push({ bytes, cb, resent: false })
    dest.queuedBytes += bytes.byteLength + 4
    if (dest.queue.length >= this.#maxItems || dest.queuedBytes >= this.#maxBytes) this.#flush(dest)
    else this.#scheduleFlush(dest)
  }

  /** Refuses new calls and fails every queued one with `closed` (outstanding batches end on their own). */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#flushTimer !== undefined) this.#clock.clearTimer(this.#flushTimer)
    this.#flushTimer = undefined
    for (const d of this.#dests.values()) {
      const q = d.queue
      d.queue = []
      d.queuedBytes = 0
      for (const p of q) this.#later(p.cb, 'closed', 'the peer is stopped')
    }
  }

  #dest (address: Address, lane: Lane): Destination {
    const id = lane === 'fast' ? address : `${address}\u0000slow`
    let d = this.#dests.get(id)
    if (d === undefined) {
      d = { address, lane, timeoutMs: lane === 'fast' ? this.#timeoutMs : this.#slowTimeoutMs, queue: [], queuedBytes: 0, inFlight: 0 }
      this.#dests.set(id, d)
    }
    return d
  }

  #later (cb: CallCallback, reason: CallFailure, message: string): void {
    this.counters.failures[reason] = (this.counters.failures[reason] ?? 0) + 1
    this.#clock.setTimer(0, () => cb({ reason, message }))
  }

  #scheduleFlush (dest: Destination): void {
    this.#dirty.add(dest)
    if (this.#flushTimer !== undefined) return
    this.#flushTimer = this.#clock.setTimer(0, () => {
      this.#flushTimer = undefined
      const dirty = [...this.#dirty]
      this.#dirty.clear()
      for (const d of dirty) this.#flush(d)
    })
  }

  #flush (dest: Destination): void {
    while (dest.queue.length > 0 && dest.inFlight < this.#maxInFlight && !this.#closed) {
      let n = 0
      let bytes = 0
      while (n < dest.queue.length && n < this.#maxItems && (n === 0 || bytes + dest.queue[n].bytes.byteLength + 4 <= this.#maxBytes)) {
        bytes += dest.queue[n].bytes.byteLength + 4
        n++
      }
      const items = dest.queue.splice(0, n)
      dest.queuedBytes -= bytes
      this.#send(dest, items, dest.timeoutMs, true)
    }
  }

  #send (dest: Destination, items: Pending[], timeoutMs: number, counted: boolean): void {
    let frame: Uint8Array
    try {
      frame = encodeBatch('batch', items.map((p) => p.bytes), this.#limits)
    } catch (err) {
      for (const p of items) this.#later(p.cb, 'too-large', (err as Error).message)
      return
    }
    if (counted) dest.inFlight++
    this.counters.batchesSent++
    this.counters.itemsSent += items.length
    this.counters.bytesSent += frame.byteLength
    this.#transport.request(dest.address, frame, timeoutMs, (err, reply) => {
      if (counted) dest.inFlight--
      this.#settle(dest, items, err, reply)
      if (counted) this.#flush(dest)
    })
  }

  #settle (dest: Destination, items: Pending[], err: TransportError | null, reply: Uint8Array | undefined): void {
    if (err !== null || reply === undefined) {
      const reason: CallFailure = err?.reason ?? 'closed'
      this.counters.failures[reason] = (this.counters.failures[reason] ?? 0) + 1
      for (const p of items) p.cb({ reason, message: err?.message ?? 'no reply' })
      return
    }
    let decoded
    try {
      decoded = decodeBatch(reply, this.#limits)
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e
      this.#malformed(dest.address, `reply-${e.reason}`, e.message)
      for (const p of items) p.cb({ reason: 'malformed-reply', message: e.message })
      return
    }
    if (decoded.frame === 'batch-error') {
      this.counters.failures['remote-error'] = (this.counters.failures['remote-error'] ?? 0) + 1
      for (const p of items) p.cb({ reason: 'remote-error', message: `${decoded.code}: ${decoded.message}` })
      return
    }
    if (decoded.frame !== 'batch-reply' || decoded.items.length !== items.length) {
      this.#malformed(dest.address, 'reply-count', `a reply batch of ${decoded.items.length} items for ${items.length} requests`)
      for (const p of items) p.cb({ reason: 'malformed-reply', message: 'the reply batch does not match the request' })
      return
    }
    for (let i = 0; i < items.length; i++) {
      let r: ReplyItem
      try {
        r = decodeReplyItem(decoded.items[i], this.#limits)
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e
        this.#malformed(dest.address, `reply-item-${e.reason}`, e.message)
        items[i].cb({ reason: 'malformed-reply', message: e.message })
        continue
      }
      if (r.type === 'status' && r.status === 'overloaded' && !items[i].resent && items.length > 1) {
        // the reply batch overflowed a frame: this one goes again, alone
        this.counters.resentAlone++
        this.#send(dest, [{ ...items[i], resent: true }], dest.timeoutMs, false)
        continue
      }
      items[i].cb(null, r)
    }
  }

  #malformed (from: Address, reason: string, detail: string): void {
    this.counters.malformed[reason] = (this.counters.malformed[reason] ?? 0) + 1
    this.#warnOnce(`${reason}:${from}`, 'refused a malformed replication message', { from, reason, detail })
  }

  // ------------------------------------------------------------------------------------ server

  /**
   * Serves one inbound batch frame: `handle` gets each decoded item and answers it once; the reply batch
   * goes to `respond` when all have answered. Never throws for bad input.
   */
  serve (from: Address, payload: Uint8Array, handle: (item: RequestItem, answer: (reply: ReplyItem) => void) => void, respond: (reply: Uint8Array) => void): void {
    this.counters.batchesReceived++
    this.counters.bytesReceived += payload.byteLength
    let decoded
    try {
      decoded = decodeBatch(payload, this.#limits)
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e
      this.#malformed(from, e.reason, e.message)
      respond(encodeBatchError('ERR_DECODE', e.message, this.#limits))
      return
    }
    if (decoded.frame !== 'batch') {
      this.#malformed(from, 'unexpected-frame', `${decoded.frame} arrived as a request`)
      respond(encodeBatchError('ERR_DECODE', `expected a batch, got ${decoded.frame}`, this.#limits))
      return
    }
    const n = decoded.items.length
    this.counters.itemsReceived += n
    const replies = new Array<Uint8Array | undefined>(n)
    let left = n
    let sent = false
    let deadline: TimerHandle | undefined
    const finish = (): void => {
      if (sent) return
      sent = true
      if (deadline !== undefined) this.#clock.clearTimer(deadline)
      respond(this.#replyFrame(replies as Uint8Array[]))
    }
    if (n === 0) { finish(); return }
    // One slow item (a read that asks a partitioned source, a forwarded write waiting for its quorum) must
    // not hold the others past the requester's timeout: at 80 % of it, the batch goes back with the items
    // still running answered ERR_TIMEOUT (their outcome is unknown to the requester).
    const slow = decoded.items.some((it) => it[0] === CLIENT_ITEM || it[0] === FILL_ITEM)
    deadline = this.#clock.setTimer(Math.floor((slow ? this.#slowTimeoutMs : this.#timeoutMs) * 0.8), () => {
      deadline = undefined
      if (sent) return
      this.counters.itemsTimedOut += left
      const late = encodeReplyItem({ type: 'error', code: 'ERR_TIMEOUT', message: 'the peer did not finish this request in time' }, this.#limits)
      for (let i = 0; i < n; i++) if (replies[i] === undefined) replies[i] = late
      finish()
    })
    for (let i = 0; i < n; i++) {
      let item: RequestItem
      try {
        item = decodeRequestItem(decoded.items[i], this.#limits)
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e
        this.#malformed(from, `item-${e.reason}`, e.message)
        replies[i] = encodeReplyItem({ type: 'error', code: 'ERR_DECODE', message: e.message.slice(0, 512) }, this.#limits)
        if (--left === 0) finish()
        continue
      }
      let answered = false
      handle(item, (reply) => {
        if (answered || sent) return
        answered = true
        try {
          replies[i] = encodeReplyItem(reply, this.#limits)
        } catch (e) {
          if (!(e instanceof EncodeError)) throw e
          replies[i] = encodeReplyItem({ type: 'error', code: 'ERR_ENCODE', message: e.message.slice(0, 512) }, this.#limits)
        }
        if (--left === 0) finish()
      })
    }
  }

  /** The reply batch; replies that would not fit one frame become `overloaded` (sent again alone by the client). */
  #replyFrame (replies: Uint8Array[]): Uint8Array {
    const budget = this.#limits.maxFrameBytes - 64
    let total = 0
    for (const r of replies) total += r.byteLength + 4
    if (total > budget && replies.length > 1) {
      const overloaded = encodeReplyItem(OVERLOADED_REPLY, this.#limits)
      const order = replies.map((r, i) => i).sort((a, b) => replies[b].byteLength - replies[a].byteLength)
      for (const i of order) {
        if (total <= budget) break
        total -= replies[i].byteLength - overloaded.byteLength
        replies[i] = overloaded
      }
    }
    try {
      return encodeBatch('batch-reply', replies, this.#limits)
    } catch (e) {
      return encodeBatchError('ERR_ENCODE', (e as Error).message, this.#limits)
    }
  }
}
