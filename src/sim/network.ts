/**
 * The simulated network: routes bytes between simulated hosts in virtual time, with the faults a real
 * network has. Modelled on Jepsen's nemeses and hashicorp/memberlist's mock transport, driven by one
 * seeded generator (`sim.random.fork('net')`) so a seed replays exactly.
 *
 * Per directed link (defaults, overridable per pair with `setLink`):
 * - `latencyMs` + a random extra delay per message: uniform in [0, `jitterMs`), or, with
 *   `jitterDistribution: 'exponential'`, exponential with mean `jitterMs` (a long tail: about 1 message
 *   in 10^6 is more than 14 × jitterMs late). Jitter alone can reorder messages;
 * - `loss`: probability a best-effort message is dropped;
 * - `duplicate`: probability it is delivered twice (the copy gets its own delay);
 * - `reorder`: probability it is held back an extra uniform [0, 2 × (latencyMs + jitterMs)] ms, so that
 *   messages sent after it overtake it.
 * Reliable requests and replies use the latency and jitter only (a stream retransmits what is lost).
 *
 * Partitions are checked when a message is sent (bytes already on the wire still arrive): `partition`
 * (symmetric groups), `block` (one direction), `bridge` (a host in every group). `heal` clears all three;
 * link settings stay until changed.
 *
 * Invariants: every best-effort message handed to `send` is counted exactly once as delivered or as
 * dropped with a reason (duplicates are counted separately); every request gets exactly one outcome;
 * no operation is O(number of hosts) per message.
 */
import { InvalidOptionError } from '../errors.js'
import type { Random } from '../env/random.js'
import { TransportError } from '../transport/transport.js'
import type { Address, TransportErrorCode } from '../transport/transport.js'
import {
  EV_MESSAGE, EV_OUTCOME, EV_REPLY, EV_REQUEST, EV_TIMEOUT, SimEvent
} from './event-queue.js'
import type { SimHost, HostStats } from './host.js'
import { PendingRequest } from './sim-transport.js'
import type { SimTransport } from './sim-transport.js'
import type { Trace } from './trace.js'
import { checkNonNegative, checkProbability } from './validate.js'

export interface LinkOptions {
  /** Base one-way delay, in ms. */
  latencyMs: number
  /** Extra random delay per message, in ms: the width of the uniform jitter, or the exponential mean. */
  jitterMs: number
  /** How the extra delay is drawn: 'uniform' in [0, jitterMs), or 'exponential' with mean jitterMs. */
  jitterDistribution: 'uniform' | 'exponential'
  /** Probability in [0, 1] that a best-effort message is lost. */
  loss: number
  /** Probability in [0, 1] that a best-effort message is delivered twice. */
  duplicate: number
  /** Probability in [0, 1] that a best-effort message is held back so later ones overtake it. */
  reorder: number
}

export const DEFAULT_LINK: Readonly<LinkOptions> = Object.freeze({
  latencyMs: 1,
  jitterMs: 0,
  jitterDistribution: 'uniform',
  loss: 0,
  duplicate: 0,
  reorder: 0
})

/** Network-wide counters. `dropped` is the sum of the `dropped*` reasons. */
export interface NetworkStats {
  /** Best-effort messages accepted by `send` (not counting duplicates). */
  sent: number
  /** Best-effort messages handed to a handler (duplicates included). */
  delivered: number
  dropped: number
  droppedLoss: number
  /** Sender and receiver in different partition groups. */
  droppedPartition: number
  /** One-directional block. */
  droppedBlocked: number
  /** Destination unknown, down, or crashed while the message was in flight. */
  droppedDown: number
  /** Destination transport closed, or the sender's transport closed. */
  droppedClosed: number
  /** Arrived before the destination installed its handlers. */
  droppedNoHandler: number
  /** Arrived while the destination was paused and its paused inbox was full. */
  droppedOverflow: number
  duplicated: number
  reordered: number
  /** All bytes put on the wire: messages, requests and replies. */
  bytes: number
  messageBytes: number
  maxPayloadBytes: number
  requests: number
  requestBytes: number
  maxRequestPayloadBytes: number
  replies: number
  replyBytes: number
  timeouts: number
  unreachable: number
  closedOutcomes: number
  tooLarge: number
  lateReplies: number
}

/** The part of the simulator the network needs; implemented by `Simulator`. */
export interface SimKernel {
  now(): number
  push(ev: SimEvent): void
  readonly trace: Trace
  readonly traceMessages: boolean
  host(address: Address): SimHost | undefined
}

export interface SimNetworkInit {
  defaults?: Partial<LinkOptions>
  pausedInboxLimit: number
}

function zeroStats (): NetworkStats {
  return {
    sent: 0,
    delivered: 0,
    dropped: 0,
    droppedLoss: 0,
    droppedPartition: 0,
    droppedBlocked: 0,
    droppedDown: 0,
    droppedClosed: 0,
    droppedNoHandler: 0,
    droppedOverflow: 0,
    duplicated: 0,
    reordered: 0,
    bytes: 0,
    messageBytes: 0,
    maxPayloadBytes: 0,
    requests: 0,
    requestBytes: 0,
    maxRequestPayloadBytes: 0,
    replies: 0,
    replyBytes: 0,
    timeouts: 0,
    unreachable: 0,
    closedOutcomes: 0,
    tooLarge: 0,
    lateReplies: 0
  }
}

const SLAB_BYTES = 16 * 1024
const SLAB_COPY_MAX_BYTES = 2048

interface LinkOverride { partial: Partial<LinkOptions>, resolved: LinkOptions }

export class SimNetwork {
  readonly #kernel: SimKernel
  readonly #random: Random
  #defaults: LinkOptions
  readonly #overrides = new Map<SimHost, Map<SimHost, LinkOverride>>()
  readonly #grouped = new Set<SimHost>()
  readonly #bridges = new Set<SimHost>()
  readonly #blocked = new Set<SimHost>()
  readonly #stats: NetworkStats = zeroStats()
  #slab = new Uint8Array(SLAB_BYTES)
  #slabOffset = 0
  /** Best-effort messages queued for a paused host beyond this are dropped (`droppedOverflow`). */
  readonly pausedInboxLimit: number

  /** @internal constructed by `Simulator` */
  constructor (kernel: SimKernel, random: Random, init: SimNetworkInit) {
    this.#kernel = kernel
    this.#random = random
    this.#defaults = resolveLink(DEFAULT_LINK, init.defaults ?? {}, 'SimulatorInit.link')
    this.pausedInboxLimit = init.pausedInboxLimit
  }

  /** The current default link settings. */
  get defaults (): Readonly<LinkOptions> { return this.#defaults }

  /** Changes the settings of every link that has no override (and the base of overridden ones). */
  setDefaults (options: Partial<LinkOptions>): void {
    this.#defaults = resolveLink(this.#defaults, options, 'setDefaults')
    for (const [from, map] of this.#overrides) {
      for (const [to, o] of map) {
        o.resolved = resolveLink(this.#defaults, o.partial, 'setLink')
        from.links!.set(to, o.resolved)
      }
    }
    this.#kernel.trace.record('link-defaults', linkFields(this.#defaults))
  }

  /** Overrides the settings of the directed link `from → to` (fields not given follow the defaults). */
  setLink (from: Address, to: Address, options: Partial<LinkOptions>): void {
    const a = this.#host(from, 'setLink')
    const b = this.#host(to, 'setLink')
    let map = this.#overrides.get(a)
    if (map === undefined) { map = new Map(); this.#overrides.set(a, map) }
    const partial = { ...(map.get(b)?.partial ?? {}), ...options }
    const resolved = resolveLink(this.#defaults, partial, 'setLink')
    map.set(b, { partial, resolved })
    if (a.links === null) a.links = new Map()
    a.links.set(b, resolved)
    this.#kernel.trace.record('link', { from, to, ...linkFields(resolved) })
  }

  /** Removes every per-link override. */
  resetLinks (): void {
    for (const a of this.#overrides.keys()) a.links = null
    this.#overrides.clear()
    this.#kernel.trace.record('link-reset', {})
  }

  /** The settings in force on the directed link `from → to`. */
  link (from: Address, to: Address): Readonly<LinkOptions> {
    const a = this.#host(from, 'link')
    const b = this.#host(to, 'link')
    return a.links?.get(b) ?? this.#defaults
  }

  /**
   * Splits the network into groups with no traffic between them, in either direction. Hosts not listed
   * form one more group together. Replaces the previous partition (blocks and bridges stay).
   */
  partition (groups: Address[][]): void {
    const seen = new Set<SimHost>()
    const hosts = groups.map((g) => g.map((address) => {
      const h = this.#host(address, 'partition')
      if (seen.has(h)) throw new InvalidOptionError(`partition: ${address} is listed in more than one group; list each host once`)
      seen.add(h)
      return h
    }))
    for (const h of this.#grouped) h.group = 0
    this.#grouped.clear()
    hosts.forEach((g, i) => { for (const h of g) { h.group = i + 1; this.#grouped.add(h) } })
    this.#kernel.trace.record('partition', { groups: groups.map((g) => g.join(',')).join('|') })
  }

  /** Drops every message from `from` to `to` (one direction only). */
  block (from: Address, to: Address): void {
    const a = this.#host(from, 'block')
    const b = this.#host(to, 'block')
    if (a.blockedTo === null) a.blockedTo = new Set()
    a.blockedTo.add(b)
    this.#blocked.add(a)
    this.#kernel.trace.record('block', { from, to })
  }

  /** Undoes `block(from, to)`. */
  unblock (from: Address, to: Address): void {
    const a = this.#host(from, 'unblock')
    const b = this.#host(to, 'unblock')
    a.blockedTo?.delete(b)
    this.#kernel.trace.record('unblock', { from, to })
  }

  /** Makes `address` a bridge: it reaches, and is reached from, every side of any partition. */
  bridge (address: Address): void {
    const h = this.#host(address, 'bridge')
    h.bridge = true
    this.#bridges.add(h)
    this.#kernel.trace.record('bridge', { host: address })
  }

  /** Ends every partition, block and bridge (link settings stay). */
  heal (): void {
    for (const h of this.#grouped) h.group = 0
    this.#grouped.clear()
    for (const h of this.#bridges) h.bridge = false
    this.#bridges.clear()
    for (const h of this.#blocked) h.blockedTo = null
    this.#blocked.clear()
    this.#kernel.trace.record('heal', {})
  }

  /** Whether a message sent now from `from` to `to` would pass partitions and blocks (ignores loss). */
  canReach (from: Address, to: Address): boolean {
    return reachable(this.#host(from, 'canReach'), this.#host(to, 'canReach'))
  }

  /** A copy of the network-wide counters. */
  stats (): NetworkStats { return { ...this.#stats } }

  /** A copy of one host's counters. */
  hostStats (address: Address): HostStats {
    return { ...this.#host(address, 'hostStats').stats }
  }

  // ---- the Transport implementation (called by SimTransport) ----

  /** @internal */
  send (t: SimTransport, to: Address, payload: Uint8Array): void {
    const len = payload.byteLength
    if (len > t.maxDatagramBytes) {
      throw new TransportError('too-large', `datagram of ${len} bytes to ${to} is over maxDatagramBytes (${t.maxDatagramBytes}); split it or send it as a request`)
    }
    const s = this.#stats
    if (t.closed) { s.dropped++; s.droppedClosed++; return }
    const src = t.host
    s.sent++
    s.bytes += len
    s.messageBytes += len
    if (len > s.maxPayloadBytes) s.maxPayloadBytes = len
    src.stats.sentMessages++
    src.stats.sentBytes += len
    const dst = this.#kernel.host(to)
    if (dst === undefined || !dst.up) { s.dropped++; s.droppedDown++; return }
    if (src.group !== dst.group && !src.bridge && !dst.bridge) { s.dropped++; s.droppedPartition++; return }
    if (src.blockedTo !== null && src.blockedTo.has(dst)) { s.dropped++; s.droppedBlocked++; return }
    const link = src.links === null ? this.#defaults : (src.links.get(dst) ?? this.#defaults)
    const random = this.#random
    if (link.loss > 0 && random.next() < link.loss) { s.dropped++; s.droppedLoss++; return }
    this.#scheduleMessage(src, dst, this.#copy(payload), link)
    if (link.duplicate > 0 && random.next() < link.duplicate) {
      s.duplicated++
      this.#scheduleMessage(src, dst, this.#copy(payload), link)
    }
  }

  #scheduleMessage (src: SimHost, dst: SimHost, payload: Uint8Array, link: LinkOptions): void {
    let delay = this.#delay(link)
    if (link.reorder > 0 && this.#random.next() < link.reorder) {
      this.#stats.reordered++
      delay += this.#random.next() * 2 * (link.latencyMs + link.jitterMs)
    }
    const ev = new SimEvent(this.#kernel.now() + delay, EV_MESSAGE, dst, dst.epoch)
    ev.from = src.address
    ev.payload = payload
    this.#kernel.push(ev)
  }

  /** @internal */
  request (t: SimTransport, to: Address, payload: Uint8Array, timeoutMs: number, done: (err: TransportError | null, reply?: Uint8Array) => void): void {
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      throw new RangeError(`request to ${to}: timeoutMs must be a finite number > 0, got ${timeoutMs}`)
    }
    if (typeof done !== 'function') throw new TypeError(`request to ${to}: done must be a function`)
    const req = new PendingRequest(t, to, timeoutMs, done)
    if (t.closed) { this.#outcomeSoon(req, 'closed'); return }
    const src = t.host
    t.pending.add(req)
    const len = payload.byteLength
    if (len > t.maxRequestBytes) {
      this.#outcomeSoon(req, 'too-large')
      return
    }
    const now = this.#kernel.now()
    const timeout = new SimEvent(now + timeoutMs, EV_TIMEOUT, src, t.epoch)
    timeout.request = req
    req.timeout = timeout
    this.#kernel.push(timeout)
    const dst = this.#kernel.host(to)
    if (dst === undefined) { this.#outcomeSoon(req, 'unreachable'); return }
    const s = this.#stats
    s.requests++
    s.bytes += len
    s.requestBytes += len
    if (len > s.maxRequestPayloadBytes) s.maxRequestPayloadBytes = len
    src.stats.sentRequests++
    if (!reachable(src, dst)) return // swallowed by the partition: the requester times out
    const link = src.links === null ? this.#defaults : (src.links.get(dst) ?? this.#defaults)
    const ev = new SimEvent(now + this.#delay(link), EV_REQUEST, dst, dst.up ? dst.epoch : -1)
    ev.from = src.address
    ev.payload = payload.slice()
    ev.request = req
    this.#kernel.push(ev)
  }

  /** @internal */
  closeTransport (t: SimTransport): void {
    const pending = [...t.pending]
    t.pending.clear()
    for (const req of pending) this.#settle(req, new TransportError('closed', `request to ${req.to} failed: the transport was closed`))
  }

  /** @internal Runs a network event on its (live, unpaused) host. */
  deliver (ev: SimEvent): void {
    const host = ev.host!
    const s = this.#stats
    switch (ev.kind) {
      case EV_MESSAGE: {
        const t = host.transport
        const payload = ev.payload!
        if (t === null || t.closed) { s.dropped++; s.droppedClosed++; return }
        const h = t.handlers
        if (h === null) { s.dropped++; s.droppedNoHandler++; return }
        s.delivered++
        host.stats.receivedMessages++
        host.stats.receivedBytes += payload.byteLength
        if (this.#kernel.traceMessages) this.#kernel.trace.recordDelivery('deliver', ev.from, host.address, payload)
        h.onMessage(ev.from, payload)
        return
      }
      case EV_REQUEST: {
        const t = host.transport
        const req = ev.request!
        if (t === null || t.closed || t.handlers === null) { this.#refuse(host, req); return }
        const payload = ev.payload!
        host.stats.receivedRequests++
        if (this.#kernel.traceMessages) this.#kernel.trace.recordDelivery('request', ev.from, host.address, payload)
        let responded = false
        const respond = (reply: Uint8Array): void => {
          if (responded) return
          responded = true
          if (t.closed) return
          this.#reply(host, req, reply)
        }
        t.handlers.onRequest(ev.from, payload, respond)
        return
      }
      case EV_REPLY: {
        const req = ev.request!
        if (req.settled) { s.lateReplies++; return }
        if (this.#kernel.traceMessages) this.#kernel.trace.recordDelivery('reply', ev.from, host.address, ev.payload!)
        this.#settle(req, null, ev.payload!)
        return
      }
      case EV_OUTCOME: {
        const req = ev.request!
        if (req.settled) return
        this.#settle(req, new TransportError(ev.code!, outcomeMessage(ev.code!, req)))
        return
      }
      case EV_TIMEOUT: {
        const req = ev.request!
        if (req.settled) return
        this.#settle(req, new TransportError('timeout', `request to ${req.to} timed out after ${req.timeoutMs} ms`))
      }
    }
  }

  /** @internal A network event whose host crashed or restarted since it was scheduled. */
  voided (ev: SimEvent): void {
    const s = this.#stats
    if (ev.kind === EV_MESSAGE) {
      s.dropped++
      s.droppedDown++
    } else if (ev.kind === EV_REQUEST) {
      this.#refuse(ev.host!, ev.request!)
    }
    // replies, outcomes and timeouts of a crashed requester: the process is gone, nobody to tell
  }

  /** @internal A best-effort message found the paused inbox of its host full. */
  overflow (ev: SimEvent): void {
    const s = this.#stats
    s.dropped++
    s.droppedOverflow++
    ev.host!.stats.inboxOverflow++
  }

  /** Nobody listens at `host`: the requester learns it after the way back (a refused connection). */
  #refuse (host: SimHost, req: PendingRequest): void {
    const requester = req.transport.host
    if (req.settled || requester.epoch !== req.transport.epoch) return
    if (!reachable(host, requester)) return // the refusal is lost too: the requester times out
    const link = host.links === null ? this.#defaults : (host.links.get(requester) ?? this.#defaults)
    const ev = new SimEvent(this.#kernel.now() + this.#delay(link), EV_OUTCOME, requester, req.transport.epoch)
    ev.request = req
    ev.code = 'unreachable'
    this.#kernel.push(ev)
  }

  #reply (host: SimHost, req: PendingRequest, reply: Uint8Array): void {
    if (!(reply instanceof Uint8Array)) throw new TypeError(`respond() to ${req.transport.address} needs a Uint8Array reply`)
    const requester = req.transport.host
    const len = reply.byteLength
    const s = this.#stats
    if (len > req.transport.maxRequestBytes) {
      const ev = new SimEvent(this.#kernel.now(), EV_OUTCOME, requester, req.transport.epoch)
      ev.request = req
      ev.code = 'too-large'
      this.#kernel.push(ev)
      return
    }
    s.bytes += len
    s.replyBytes += len
    if (!reachable(host, requester)) return
    const link = host.links === null ? this.#defaults : (host.links.get(requester) ?? this.#defaults)
    const ev = new SimEvent(this.#kernel.now() + this.#delay(link), EV_REPLY, requester, req.transport.epoch)
    ev.from = host.address
    ev.payload = reply.slice()
    ev.request = req
    this.#kernel.push(ev)
  }

  #outcomeSoon (req: PendingRequest, code: TransportErrorCode): void {
    const t = req.transport
    const ev = new SimEvent(this.#kernel.now(), EV_OUTCOME, t.host, t.epoch)
    ev.request = req
    ev.code = code
    this.#kernel.push(ev)
  }

  #settle (req: PendingRequest, err: TransportError | null, reply?: Uint8Array): void {
    req.settled = true
    req.transport.pending.delete(req)
    if (req.timeout !== null) req.timeout.cancelled = true
    const s = this.#stats
    if (err === null) {
      s.replies++
    } else {
      switch (err.reason) {
        case 'timeout': s.timeouts++; break
        case 'unreachable': s.unreachable++; break
        case 'closed': s.closedOutcomes++; break
        case 'too-large': s.tooLarge++; break
      }
    }
    if (err === null) {
      req.done(null, reply)
    } else {
      req.done(err)
    }
  }

  /**
   * A private copy of a datagram's bytes, as a socket makes at send time. Datagrams are carved out of a
   * shared 16 KiB slab (Node's Buffer pool trick): allocating a backing store per 100-byte message was the
   * simulator's largest cost (about 1.7x slower). Each copy owns its range, so a receiver may mutate it;
   * like a real socket's read buffer, a view kept for long pins the slab, so keep a copy, not a view.
   * Requests and replies (which carry values that may be stored) get their own buffers.
   */
  #copy (src: Uint8Array): Uint8Array {
    const n = src.byteLength
    if (n > SLAB_COPY_MAX_BYTES) return src.slice()
    if (this.#slabOffset + n > SLAB_BYTES) {
      this.#slab = new Uint8Array(SLAB_BYTES)
      this.#slabOffset = 0
    }
    const out = this.#slab.subarray(this.#slabOffset, this.#slabOffset + n)
    out.set(src)
    this.#slabOffset += (n + 7) & ~7
    return out
  }

  #delay (link: LinkOptions): number {
    if (link.jitterMs === 0) return link.latencyMs
    const u = this.#random.next()
    return link.latencyMs + (link.jitterDistribution === 'uniform' ? u * link.jitterMs : -Math.log(1 - u) * link.jitterMs)
  }

  #host (address: Address, what: string): SimHost {
    const h = this.#kernel.host(address)
    if (h === undefined) throw new InvalidOptionError(`${what}: no host has the address ${address}; add it with sim.addHost first`)
    return h
  }
}

function reachable (a: SimHost, b: SimHost): boolean {
  if (a.group !== b.group && !a.bridge && !b.bridge) return false
  return a.blockedTo === null || !a.blockedTo.has(b)
}

function outcomeMessage (code: TransportErrorCode, req: PendingRequest): string {
  switch (code) {
    case 'unreachable': return `request to ${req.to} failed: nothing listens at that address`
    case 'closed': return `request to ${req.to} failed: the transport is closed`
    case 'too-large': return `request to ${req.to} failed: the request or its reply is over maxRequestBytes (${req.transport.maxRequestBytes})`
    case 'timeout': return `request to ${req.to} timed out after ${req.timeoutMs} ms`
  }
}

function linkFields (l: LinkOptions): Record<string, number | string> {
  return { latencyMs: l.latencyMs, jitterMs: l.jitterMs, jitterDistribution: l.jitterDistribution, loss: l.loss, duplicate: l.duplicate, reorder: l.reorder }
}

/** `base` with `partial` applied, every field checked. */
export function resolveLink (base: LinkOptions, partial: Partial<LinkOptions>, what: string): LinkOptions {
  const out: LinkOptions = { ...base }
  for (const key of Object.keys(partial) as Array<keyof LinkOptions>) {
    const v = partial[key]
    if (v === undefined) continue
    switch (key) {
      case 'latencyMs':
      case 'jitterMs':
        out[key] = checkNonNegative(`${what}: ${key}`, v)
        break
      case 'jitterDistribution':
        if (v !== 'uniform' && v !== 'exponential') {
          throw new InvalidOptionError(`${what}: jitterDistribution must be 'uniform' or 'exponential', got ${String(v)}`)
        }
        out[key] = v
        break
      case 'loss':
      case 'duplicate':
      case 'reorder':
        out[key] = checkProbability(`${what}: ${key}`, v)
        break
      default:
        throw new InvalidOptionError(`${what}: unknown link option '${String(key)}'; use latencyMs, jitterMs, jitterDistribution, loss, duplicate or reorder`)
    }
  }
  return out
}
