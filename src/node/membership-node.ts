/**
 * The membership driver: gives the pure SWIM + Lifeguard core (src/membership/swim.ts) a Transport, a
 * Clock, a Random and a Logger, so the same protocol runs on the simulator and on libp2p.
 *
 * What it does, and nothing more (no protocol decision is made here):
 * - owns one clock timer, armed at the core's next deadline; when it fires it measures how late it fired
 *   (`clock.now()` − due time: our event-loop lag) and reports that to the core — Lifeguard's input;
 * - decodes datagrams and requests, feeds them to the core, encodes the effects and sends them;
 * - drops a malformed or oversized message, counts it by reason and logs it once per (reason, sender);
 *   refuses an unknown protocol version with a log line; network input never throws out of here;
 * - counts messages and bytes per type in both directions, request failures by reason, and exposes the
 *   core's counters (queue drops, refutations, …);
 * - tells listeners about every member change, with its reason and time.
 *
 * Cost per message is O(updates carried): no per-message work grows with the mesh size, so thousands of
 * these run in one process under the simulator.
 */
import type { Clock, TimerHandle } from '../env/clock.js'
import { logOnce, silentLogger } from '../env/logger.js'
import type { Logger } from '../env/logger.js'
import type { Random } from '../env/random.js'
import { InvalidOptionError } from '../errors.js'
import { Swim } from '../membership/swim.js'
import type { MembershipPreset, SwimConfig, SwimOptions } from '../membership/config.js'
import type { MemberNumbers } from '../membership/member-table.js'
import type { LocalHealth, MemberEvent, MemberInfo, SwimCounters, SwimEffect } from '../membership/types.js'
import type { Address, Transport, TransportError, TransportHandlers } from '../transport/transport.js'
import { DecodeError, WIRE_VERSION } from '../wire/codec.js'
import {
  decodeMembershipMessage, encodeDatagram, encodePushPull, isMembershipFrame, MEMBERSHIP_MESSAGE_TYPES
} from '../wire/membership.js'
import type { MembershipMessage, MembershipMessageType, Metadata, OutgoingDatagram } from '../wire/membership.js'

export interface MembershipNodeInit extends SwimOptions {
  /** Where messages go and come from. */
  transport: Transport
  /** Time and timers (the simulator's host clock, or `systemClock`). */
  clock: Clock
  /** Seeded randomness; the node forks `'swim'` from it. */
  random: Random
  /** @default silentLogger */
  logger?: Logger
  /** This member's id, unique in the mesh. @default transport.address */
  id?: string
  /** Which defaults the other options start from. @default 'lan' */
  preset?: MembershipPreset
  /** This member's metadata, a small string map gossiped with it. @default {} */
  metadata?: Metadata
  /** Incarnation to start from (a restarted member refutes its old one anyway). @default 0 */
  incarnation?: number
  /**
   * The string table that numbers member ids and addresses in the member table (no protocol meaning).
   * @default sharedMemberNumbers (one per process; see src/membership/member-table.ts)
   */
  memberNumbers?: MemberNumbers
  /**
   * Install this node's handlers on the transport. Set false when a router shares the transport between
   * message families and calls `handleMessage` / `handleRequest` itself. @default true
   */
  attachTransport?: boolean
}

/** Why an inbound message was dropped. */
export type MalformedReason =
  | DecodeError['reason']
  | 'not-membership'
  | 'unexpected-type'

export interface TrafficCounter { messages: number, bytes: number }

export interface MembershipCounters extends SwimCounters {
  /** Datagrams and request/reply payloads sent, per message type. */
  sent: Record<MembershipMessageType, TrafficCounter>
  /** Datagrams and request/reply payloads received, per message type (well-formed only). */
  received: Record<MembershipMessageType, TrafficCounter>
  /** All messages and bytes sent / received, any type. */
  messagesSent: number
  bytesSent: number
  messagesReceived: number
  bytesReceived: number
  /** The largest datagram sent, in bytes (never above the transport's `maxDatagramBytes`). */
  maxDatagramBytesSent: number
  /** Inbound messages dropped, by reason. */
  malformed: Partial<Record<MalformedReason, number>>
  /** Requests that failed, by transport reason (or `malformed-reply`). */
  requestFailures: Partial<Record<TransportError['reason'] | 'malformed-reply', number>>
  /** Datagrams the transport refused to send (over its size limit: a bug if ever non-zero). */
  sendRefused: number
  /** Event listeners that threw (the error is logged; the protocol carries on). */
  listenerErrors: number
}

export interface JoinResult {
  /** Seeds that answered the join. */
  joined: number
  /** Seeds that did not, with the reason. */
  failed: Array<{ address: Address, reason: string }>
}

type EventListener = (event: MemberEvent) => void

function zeroTraffic (): Record<MembershipMessageType, TrafficCounter> {
  const out = {} as Record<MembershipMessageType, TrafficCounter>
  for (const t of MEMBERSHIP_MESSAGE_TYPES) out[t] = { messages: 0, bytes: 0 }
  return out
}

interface JoinBatch {
  pending: number
  result: JoinResult
  resolve: (r: JoinResult) => void
}

export class MembershipNode implements TransportHandlers {
  readonly id: string
  readonly address: Address
  readonly config: SwimConfig
  /** @internal The pure core (for tests and tools; do not drive it directly). */
  readonly core: Swim

  readonly #transport: Transport
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #warnOnce: (key: string, msg: string, fields?: Record<string, unknown>) => void
  readonly #listeners = new Set<EventListener>()
  readonly #joins = new Map<number, { batch: JoinBatch, address: Address }>()
  readonly #sent = zeroTraffic()
  readonly #received = zeroTraffic()
  readonly #malformed: Partial<Record<MalformedReason, number>> = {}
  readonly #requestFailures: Partial<Record<TransportError['reason'] | 'malformed-reply', number>> = {}
  #messagesSent = 0
  #bytesSent = 0
  #messagesReceived = 0
  #bytesReceived = 0
  #maxDatagram = 0
  #sendRefused = 0
  #listenerErrors = 0
  #timer: TimerHandle | undefined
  #timerDueMs = Infinity
  #flushing = false
  #stopped = false
  #leaveDone: Array<() => void> = []

  constructor (init: MembershipNodeInit) {
    if (init === null || typeof init !== 'object') throw new InvalidOptionError('MembershipNode needs an init object: { transport, clock, random }')
    const { transport, clock, random } = init
    if (transport === undefined || typeof transport.send !== 'function') throw new InvalidOptionError('transport must be a Transport (src/transport/transport.ts)')
    if (clock === undefined || typeof clock.setTimer !== 'function') throw new InvalidOptionError('clock must be a Clock (src/env/clock.ts), e.g. systemClock or the simulator host clock')
    if (random === undefined || typeof random.fork !== 'function') throw new InvalidOptionError('random must be a Random (src/env/random.ts), e.g. new SeededRandom(seed)')
    this.#transport = transport
    this.#clock = clock
    this.#logger = (init.logger ?? silentLogger).child({ component: 'membership' })
    this.#warnOnce = logOnce(this.#logger)
    this.address = transport.address
    this.id = init.id ?? transport.address
    this.core = new Swim({
      ...init,
      id: this.id,
      address: transport.address,
      random: random.fork('swim'),
      maxDatagramBytes: transport.maxDatagramBytes,
      meta: init.metadata,
      preset: init.preset
    })
    this.config = this.core.config
    if (init.attachTransport !== false) transport.setHandlers(this)
  }

  // -------------------------------------------------------------------------------------------------
  // lifecycle

  /** Starts probing and gossip. Idempotent. */
  start (): void {
    if (this.#stopped) return
    this.core.start(this.#clock.now())
    this.#flush()
  }

  /** Joins the mesh through seed addresses (push-pull with each). Starts the node if needed. Never rejects. */
  join (seeds: readonly Address[]): Promise<JoinResult> {
    if (!this.core.started) this.start()
    const ids = this.core.join(seeds, this.#clock.now())
    const targets = seeds.filter((s) => s !== this.address)
    if (ids.length === 0) {
      this.#flush()
      return Promise.resolve({ joined: 0, failed: [] })
    }
    return new Promise<JoinResult>((resolve) => {
      const batch: JoinBatch = { pending: ids.length, result: { joined: 0, failed: [] }, resolve }
      ids.forEach((id, i) => this.#joins.set(id, { batch, address: targets[i] }))
      this.#flush()
    })
  }

  /** Leaves gracefully: tells the mesh, keeps answering for `leaveLingerMs`, then stops. */
  leave (): Promise<void> {
    if (this.#stopped) return Promise.resolve()
    return new Promise<void>((resolve) => {
      this.#leaveDone.push(resolve)
      if (this.core.leaving) return
      this.core.leave(this.#clock.now())
      this.#flush()
      this.#clock.setTimer(this.config.leaveLingerMs, () => this.stop())
    })
  }

  /** Stops at once: no more timers, messages are ignored. The transport is left open (it is not ours). */
  stop (): void {
    if (this.#stopped) return
    this.#stopped = true
    this.core.stop()
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer)
    this.#timer = undefined
    for (const [, j] of this.#joins) this.#settleJoin(j.batch, j.address, 'stopped')
    this.#joins.clear()
    const done = this.#leaveDone
    this.#leaveDone = []
    for (const d of done) d()
  }

  get stopped (): boolean { return this.#stopped }

  // -------------------------------------------------------------------------------------------------
  // views

  /** Every member this node knows, itself and dead/left tombstones included. */
  members (): MemberInfo[] { return this.core.members() }

  /** Alive and suspect members (the ones to route to), this node included. */
  liveMembers (): MemberInfo[] { return this.core.members().filter((m) => m.state === 'alive' || m.state === 'suspect') }

  member (id: string): MemberInfo | undefined { return this.core.member(id) }

  /** Hash of the sorted (id, incarnation, state) set: equal checksums mean equal views. */
  checksum (): string { return this.core.checksum() }

  /** Lifeguard's local health: score and current timeout multiplier. */
  get localHealth (): LocalHealth { return this.core.localHealth }

  get incarnation (): number { return this.core.incarnation }

  /** Changes this member's metadata; other members see an `updated` event. */
  setMetadata (meta: Metadata): void {
    this.core.setMetadata(meta, this.#clock.now())
    this.#flush()
  }

  /** Calls `fn` for every member change (with reason and time); returns a function that unsubscribes. */
  onEvent (fn: EventListener): () => void {
    this.#listeners.add(fn)
    return () => { this.#listeners.delete(fn) }
  }

  /** A snapshot of the counters. */
  counters (): MembershipCounters {
    const copy = (r: Record<MembershipMessageType, TrafficCounter>): Record<MembershipMessageType, TrafficCounter> => {
      const out = {} as Record<MembershipMessageType, TrafficCounter>
      for (const t of MEMBERSHIP_MESSAGE_TYPES) out[t] = { ...r[t] }
      return out
    }
    return {
      ...this.core.counters,
      sent: copy(this.#sent),
      received: copy(this.#received),
      messagesSent: this.#messagesSent,
      bytesSent: this.#bytesSent,
      messagesReceived: this.#messagesReceived,
      bytesReceived: this.#bytesReceived,
      maxDatagramBytesSent: this.#maxDatagram,
      malformed: { ...this.#malformed },
      requestFailures: { ...this.#requestFailures },
      sendRefused: this.#sendRefused,
      listenerErrors: this.#listenerErrors
    }
  }

  // -------------------------------------------------------------------------------------------------
  // transport handlers

  /** A best-effort message arrived. Never throws. */
  onMessage (from: Address, payload: Uint8Array): void { this.handleMessage(from, payload) }

  /** A reliable request arrived. Never throws. */
  onRequest (from: Address, payload: Uint8Array, respond: (reply: Uint8Array) => void): void { this.handleRequest(from, payload, respond) }

  handleMessage (from: Address, payload: Uint8Array): void {
    if (this.#stopped) return
    if (payload.byteLength > this.#transport.maxDatagramBytes) {
      this.#drop(from, 'frame-too-large', `datagram of ${payload.byteLength} bytes, over ${this.#transport.maxDatagramBytes}`)
      return
    }
    const msg = this.#decode(from, payload)
    if (msg === undefined) return
    if (msg.type === 'push-pull-request' || msg.type === 'push-pull-reply') { this.#drop(from, 'unexpected-type', `${msg.type} arrived as a datagram`); return }
    this.#countIn(msg.type, payload.byteLength)
    this.core.handleDatagram(from, msg, this.#clock.now())
    this.#flush()
  }

  handleRequest (from: Address, payload: Uint8Array, respond: (reply: Uint8Array) => void): void {
    if (this.#stopped) return
    const msg = this.#decode(from, payload)
    if (msg === undefined) return
    if (msg.type !== 'push-pull-request' && msg.type !== 'ping') { this.#drop(from, 'unexpected-type', `${msg.type} arrived as a request`); return }
    this.#countIn(msg.type, payload.byteLength)
    const reply = this.core.handleRequest(from, msg, this.#clock.now())
    if (reply !== undefined) {
      const bytes = reply.type === 'push-pull-reply' ? encodePushPull(reply) : encodeDatagram(reply, this.#transport.maxDatagramBytes)
      this.#countOut(reply.type, bytes.byteLength)
      respond(bytes)
    }
    this.#flush()
  }

  // -------------------------------------------------------------------------------------------------
  // internals

  #decode (from: Address, payload: Uint8Array): MembershipMessage | undefined {
    if (payload.byteLength >= 1 && payload[0] !== WIRE_VERSION) {
      this.#bump('unknown-version')
      this.#warnOnce(`version:${from}`, 'refused a membership message with an unknown protocol version', { from, version: payload[0], speaks: WIRE_VERSION })
      return undefined
    }
    if (payload.byteLength >= 2 && !isMembershipFrame(payload)) { this.#drop(from, 'not-membership', `type 0x${payload[1].toString(16)}`); return undefined }
    try {
      return decodeMembershipMessage(payload)
    } catch (err) {
      if (err instanceof DecodeError) { this.#drop(from, err.reason, err.message); return undefined }
      throw err
    }
  }

  #drop (from: Address, reason: MalformedReason, detail: string): void {
    this.#bump(reason)
    this.#warnOnce(`${reason}:${from}`, 'dropped a malformed membership message', { from, reason, detail })
  }

  #bump (reason: MalformedReason): void {
    this.#malformed[reason] = (this.#malformed[reason] ?? 0) + 1
  }

  #countIn (type: MembershipMessageType, bytes: number): void {
    const c = this.#received[type]
    c.messages++
    c.bytes += bytes
    this.#messagesReceived++
    this.#bytesReceived += bytes
  }

  #countOut (type: MembershipMessageType, bytes: number): void {
    const c = this.#sent[type]
    c.messages++
    c.bytes += bytes
    this.#messagesSent++
    this.#bytesSent += bytes
  }

  /** Carries out the core's effects, then re-arms the timer. Re-entrant calls fold into the outer loop. */
  #flush (): void {
    if (this.#flushing) return
    this.#flushing = true
    try {
      for (;;) {
        const effects = this.core.takeEffects()
        if (effects.length === 0) break
        for (const e of effects) this.#apply(e)
      }
    } finally {
      this.#flushing = false
    }
    this.#arm()
  }

  #apply (e: SwimEffect): void {
    switch (e.kind) {
      case 'send': this.#sendDatagram(e.to, e.message); break
      case 'request': {
        const bytes = e.message.type === 'push-pull-request' ? encodePushPull(e.message) : encodeDatagram(e.message, this.#transport.maxDatagramBytes)
        this.#countOut(e.message.type, bytes.byteLength)
        const id = e.requestId
        this.#transport.request(e.to, bytes, e.timeoutMs, (err, reply) => this.#onReply(id, e.to, err, reply))
        break
      }
      case 'event':
        for (const fn of this.#listeners) {
          try {
            fn(e.event)
          } catch (err) {
            this.#listenerErrors++
            this.#warnOnce('listener', 'a membership event listener threw; the protocol carries on', { error: String(err) })
          }
        }
        break
    }
  }

  #sendDatagram (to: Address, message: OutgoingDatagram): void {
    const bytes = encodeDatagram(message, this.#transport.maxDatagramBytes)
    try {
      this.#transport.send(to, bytes)
    } catch (err) {
      this.#sendRefused++
      this.#warnOnce('send-refused', 'the transport refused a membership datagram', { to, bytes: bytes.byteLength, error: String(err) })
      return
    }
    this.#countOut(message.type, bytes.byteLength)
    if (bytes.byteLength > this.#maxDatagram) this.#maxDatagram = bytes.byteLength
  }

  #onReply (requestId: number, to: Address, err: TransportError | null, reply: Uint8Array | undefined): void {
    if (this.#stopped) return
    const now = this.#clock.now()
    const join = this.#joins.get(requestId)
    if (join !== undefined) this.#joins.delete(requestId)
    if (err !== null || reply === undefined) {
      const reason = err?.reason ?? 'closed'
      this.#requestFailures[reason] = (this.#requestFailures[reason] ?? 0) + 1
      this.core.handleRequestResult(requestId, undefined, reason, now)
      if (join !== undefined) this.#settleJoin(join.batch, to, reason)
      this.#flush()
      return
    }
    let msg: MembershipMessage | undefined
    try {
      msg = decodeMembershipMessage(reply)
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e
      this.#drop(to, e.reason, e.message)
    }
    if (msg !== undefined && msg.type !== 'push-pull-reply' && msg.type !== 'ack') {
      this.#drop(to, 'unexpected-type', `${msg.type} arrived as a reply`)
      msg = undefined
    }
    if (msg === undefined) {
      this.#requestFailures['malformed-reply'] = (this.#requestFailures['malformed-reply'] ?? 0) + 1
      this.core.handleRequestResult(requestId, undefined, 'malformed-reply', now)
      if (join !== undefined) this.#settleJoin(join.batch, to, 'malformed-reply')
    } else {
      this.#countIn(msg.type, reply.byteLength)
      this.core.handleRequestResult(requestId, msg as Parameters<Swim['handleRequestResult']>[1], undefined, now)
      if (join !== undefined) this.#settleJoin(join.batch, to, undefined)
    }
    this.#flush()
  }

  #settleJoin (batch: JoinBatch, address: Address, failure: string | undefined): void {
    if (failure === undefined) batch.result.joined++
    else batch.result.failed.push({ address, reason: failure })
    if (--batch.pending === 0) batch.resolve(batch.result)
  }

  /** One timer, at the core's next deadline. An earlier armed timer is kept: it fires, ticks, re-arms. */
  #arm (): void {
    if (this.#stopped) return
    const next = this.core.nextDeadlineMs()
    if (next === undefined) return
    if (this.#timer !== undefined && this.#timerDueMs <= next) return
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer)
    this.#timerDueMs = next
    this.#timer = this.#clock.setTimer(next - this.#clock.now(), () => this.#onTimer())
  }

  #onTimer (): void {
    this.#timer = undefined
    if (this.#stopped) return
    const now = this.#clock.now()
    const lag = now - this.#timerDueMs
    this.#timerDueMs = Infinity
    if (lag > 0) this.core.reportLag(lag, now)
    this.core.tick(now)
    this.#flush()
  }
}
