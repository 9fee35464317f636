/**
 * The membership core: SWIM (Das, Gupta, Motivala 2002) with Lifeguard (Dadgar et al. 2018), as a pure
 * state machine. Inputs are messages, request outcomes, the time, and the event-loop lag measured by the
 * driver; outputs are effects (datagrams to send, reliable requests, change events) and the time of the
 * next deadline. No I/O, no timers, no clock of its own: the driver calls `tick(now)` at `nextDeadlineMs()`.
 * hashicorp/memberlist (state.go, suspicion.go, awareness.go, broadcast.go) was the reference reading.
 *
 * The protocol, per protocol period of `probeIntervalMs`:
 * - probe one member (shared hash order, see probe-order.ts) with a ping; no ack within `probeTimeoutMs`:
 *   ask `indirectChecks` members to ping it (ping-req, relays nack if they hear nothing — Lifeguard) and
 *   try once over the reliable channel; still nothing at the end of the period: suspect it.
 * - a suspicion carries an incarnation and its accusers; it expires after Lifeguard's dynamic timeout
 *   (from max down to min as independent accusers confirm it), then the member is declared dead.
 * - updates (alive, suspect, dead, left) ride on every datagram from a bounded, prioritised queue, each
 *   `retransmitMult * ceil(log10(n + 1))` times; urgent ones (dead, left, our own alive) are also pushed
 *   at once to `gossipFanout` members. A full-state push-pull with a random member repairs the rest, and
 *   joining is a push-pull with a seed.
 * - Lifeguard: our local health score rises with missed nacks, refutations and event-loop lag, and
 *   stretches our probe interval and timeouts; probes of a suspect carry the suspicion (buddy system),
 *   and a refutation goes straight back to the accusers.
 *
 * Invariants:
 * - a claim that we are suspect, dead or left, or alive under a newer incarnation, is refuted by raising
 *   our incarnation above it, never obeyed (except while leaving);
 * - per member, the (incarnation, state) order is: higher incarnation wins; at equal incarnation
 *   dead/left > suspect > alive; a dead or left member only comes back under a higher incarnation;
 * - every datagram fits `maxDatagramBytes`; every queue and table is bounded;
 * - the checksum always equals the hash of the current (id, incarnation, state) set.
 */
import { TimerHeap } from '../env/timer-heap.js'
import type { Random } from '../env/random.js'
import { InvalidOptionError, invariant } from '../errors.js'
import type { Address } from '../transport/transport.js'
import {
  addressProblem, datagramBaseBytes, encodeUpdate, idProblem, MEMBERSHIP_LIMITS, metadataProblem, piggybackBytes, sharedUpdate
} from '../wire/membership.js'
import type {
  AckMessage, DatagramMessage, MemberEntry, MemberState, MemberUpdate, Metadata, NackMessage, OutgoingDatagram,
  PingMessage, PingReqMessage, PushPullReply, PushPullRequest
} from '../wire/membership.js'
import { BroadcastQueue } from './broadcast-queue.js'
import type { UpdatePriority } from './broadcast-queue.js'
import { MembershipChecksum } from './checksum.js'
import { MemberTable, sharedMemberNumbers } from './member-table.js'
import type { MemberNumbers } from './member-table.js'
import { resolveSwimConfig } from './config.js'
import type { MembershipPreset, SwimConfig, SwimOptions } from './config.js'
import {
  healthMultiplier, indirectProbeDelayMs, lagHealthDelta, lateTimerGraceMs, probeHealthDelta, probeOffset, probeRound, probeTimeoutMs,
  pushPullCascades, pushPullIntervalMs, relayNackTimeoutMs, deadProbeIntervalMs, retransmitLimit, suspicionConfirmationsWanted,
  suspicionMaxMs, suspicionMinMs
} from './math.js'
import { ProbeOrder } from './probe-order.js'
import { Suspicion } from './suspicion.js'
import type {
  LocalHealth, MemberEvent, MemberEventReason, MemberEventType, MemberEventVia, MemberInfo, OutgoingRequest,
  SwimCounters, SwimEffect
} from './types.js'

export interface SwimInit extends SwimOptions {
  /** This member's id, unique in the mesh. */
  id: string
  /** Where others reach this member. */
  address: Address
  /** Seeded randomness (fork one per subsystem). */
  random: Random
  /** The transport's largest datagram, in bytes; every message is packed to fit it. */
  maxDatagramBytes: number
  /** Preset the other options default from. @default 'lan' */
  preset?: MembershipPreset
  /** This member's metadata (small: it rides on gossip). @default {} */
  meta?: Metadata
  /** The incarnation to start from. @default 0 */
  incarnation?: number
  /**
   * The string table that numbers member ids and addresses (no protocol meaning; see member-table.ts).
   * @default sharedMemberNumbers (one per process)
   */
  memberNumbers?: MemberNumbers
}

/** A member as this peer holds it: its number in the member table (see member-table.ts). */
type MemberRecord = number

type Task =
  | { kind: 'probe' }
  | { kind: 'probe-timeout', seq: number, graced: boolean }
  | { kind: 'probe-end', seq: number, graced: boolean }
  | { kind: 'indirect', seq: number }
  | { kind: 'waiter-expire', seq: number }
  | { kind: 'suspicion', id: string, suspicion: Suspicion, graced: boolean }
  | { kind: 'last-chance', id: string, suspicion: Suspicion }
  | { kind: 'push-pull' }
  | { kind: 'cascade' }
  | { kind: 'dead-probe' }
  | { kind: 'burst' }
  | { kind: 'reap', id: string, changedAtMs: number }

interface ActiveProbe {
  readonly seq: number
  readonly targetId: string
  readonly startedAtMs: number
  readonly intervalMs: number
  readonly timeoutMs: number
  expectedNacks: number
  nacks: number
  /** Ping-reqs went out for this probe. */
  indirectSent: boolean
}

type Waiter =
  | { kind: 'relay', requester: Address, requesterSeq: number, requesterId: string, wantNack: boolean }
  | { kind: 'reprobe', targetId: string }

type RequestContext =
  | { kind: 'push-pull', to: Address, join: boolean }
  | { kind: 'fallback', seq: number }
  | { kind: 'last-chance', id: string, suspicion: Suspicion }

/** Periods of push-pull each peer keeps doing after its last exchange that found views far apart. */
const CASCADE_ROUNDS = 8
/** A view unchanged for this many periods is settled enough to compare with others. */
const STABLE_VIEW_ROUNDS = 3
/** At most one repair push-pull per this many periods. */
const REPAIR_ROUNDS = 3
/** Most newer records sent back to the sender of one message that carried stale updates. */
const MAX_CORRECTIONS = 16
/** Most relays (ping-reqs served) pending at once; more are refused, so a flood cannot grow memory. */
const MAX_PENDING_RELAYS = 1024
const SEQ_MODULUS = 2 ** 32

export class Swim {
  readonly id: string
  readonly address: Address
  readonly config: SwimConfig
  readonly maxDatagramBytes: number
  readonly counters: SwimCounters = {
    probes: 0, probesFailed: 0, indirectProbes: 0, fallbackProbes: 0, fallbackAcks: 0, nacksReceived: 0,
    suspicionsRaised: 0, confirmations: 0, deadDeclared: 0, refutations: 0, queueDrops: 0, gossipBursts: 0,
    pushPulls: 0, pushPullsServed: 0, pushPullFailures: 0, pushPullCascades: 0, pushPullRepairs: 0, deadProbes: 0,
    lateTimerGraces: 0, lastChanceProbes: 0, wrongTarget: 0, unexpectedAcks: 0, relaysRefused: 0, maxLagMs: 0
  }

  readonly #random: Random
  readonly #t: MemberTable
  readonly #self: MemberRecord
  readonly #order: ProbeOrder
  readonly #deadIds: MemberRecord[] = []
  readonly #queue: BroadcastQueue
  readonly #tasks = new TimerHeap<Task>()
  readonly #waiters = new Map<number, Waiter>()
  readonly #requests = new Map<number, RequestContext>()
  readonly #checksum = new MembershipChecksum()
  #outbox: SwimEffect[] = []
  #liveCount = 0
  #relays = 0
  #health = 0
  #seq = 0
  #requestId = 0
  #phaseMs = 0
  /** Probes waiting for an ack, by sequence number (normally one; two when a decision was put off). */
  readonly #probes = new Map<number, ActiveProbe>()
  #selfAliveBytes: Uint8Array | undefined
  #started = false
  #leaving = false
  #stopped = false
  #burstPending = false
  #lastBurstAtMs = -Infinity
  #cascadePending = false
  #cascadeUntilMs = -Infinity
  #lastRepairAtMs = -Infinity
  #lastViewChangeMs = 0
  #selfIndex = -1
  #selfIndexVersion = -1

  constructor (init: SwimInit) {
    if (init === null || typeof init !== 'object') throw new InvalidOptionError('Swim needs an init object: { id, address, random, maxDatagramBytes }')
    const idErr = idProblem(init.id)
    if (idErr !== undefined) throw new InvalidOptionError(`id: ${idErr}`)
    const addrErr = addressProblem(init.address)
    if (addrErr !== undefined) throw new InvalidOptionError(`address: ${addrErr}`)
    if (init.random === undefined || typeof init.random.int !== 'function') throw new InvalidOptionError('random must be a Random (src/env), e.g. new SeededRandom(seed).fork(\'swim\')')
    if (!Number.isSafeInteger(init.maxDatagramBytes) || init.maxDatagramBytes < 512) {
      throw new InvalidOptionError(`maxDatagramBytes must be an integer >= 512 (a probe with its piggyback must fit), got ${String(init.maxDatagramBytes)}`)
    }
    this.config = resolveSwimConfig(init, init.preset ?? 'lan')
    const meta = init.meta ?? {}
    const metaErr = metadataProblem(meta, this.config.maxMetadataBytes)
    if (metaErr !== undefined) throw new InvalidOptionError(`meta: ${metaErr}; raise maxMetadataBytes or send less`)
    const incarnation = init.incarnation ?? 0
    if (!Number.isSafeInteger(incarnation) || incarnation < 0) throw new InvalidOptionError(`incarnation must be a safe integer >= 0, got ${String(incarnation)}`)
    this.id = init.id
    this.address = init.address
    this.maxDatagramBytes = Math.min(init.maxDatagramBytes, MEMBERSHIP_LIMITS.maxDatagramBytes)
    this.#random = init.random
    this.#queue = new BroadcastQueue(this.config.maxBroadcastQueueLength)
    const numbers = init.memberNumbers ?? sharedMemberNumbers
    this.#t = new MemberTable(numbers)
    this.#order = new ProbeOrder(numbers)
    this.#self = this.#addRecord(this.id, this.address, { ...meta }, incarnation, 'alive', 0)
  }

  // -------------------------------------------------------------------------------------------------
  // public surface

  /** Starts probing, push-pull and dead-member re-probing. */
  start (nowMs: number): void {
    if (this.#started || this.#stopped) return
    this.#started = true
    this.#t.setChangedAtMs(this.#self, nowMs)
    const cfg = this.config
    this.#phaseMs = this.#random.int(cfg.probeIntervalMs)
    this.#schedule(this.#nextRoundStart(nowMs, 1), { kind: 'probe' })
    if (cfg.pushPullIntervalMs > 0) this.#schedule(nowMs + this.#random.int(cfg.pushPullIntervalMs) + 1, { kind: 'push-pull' })
    if (cfg.deadProbeIntervalMs > 0) this.#schedule(nowMs + this.#random.int(cfg.deadProbeIntervalMs) + 1, { kind: 'dead-probe' })
    this.#enqueueSelfAlive(nowMs)
  }

  /**
   * Joins through seeds: a push-pull (join flag set) with each address. Returns one request id per seed;
   * the driver reports each outcome through `handleRequestResult`.
   */
  join (seeds: readonly Address[], nowMs: number): number[] {
    const ids: number[] = []
    if (this.#stopped || this.#leaving) return ids
    for (const seed of seeds) {
      if (seed === this.address) continue
      ids.push(this.#startPushPull(seed, true, nowMs))
    }
    return ids
  }

  /** Announces a graceful leave: we stop probing, and tell everyone we left. The driver stops us after `leaveLingerMs`. */
  leave (nowMs: number): void {
    if (this.#leaving || this.#stopped) return
    this.#leaving = true
    const self = this.#self
    this.#setState(self, 'left', this.#t.incarnation(self), nowMs)
    this.#emit('left', 'graceful-leave', self, 'alive', 'local', nowMs, this.id)
    this.#probes.clear()
    const u: MemberUpdate = { kind: 'left', id: this.id, incarnation: this.#t.incarnation(self) }
    this.#enqueue(u, 0, nowMs)
  }

  /** Stops everything: no more effects, no more deadlines. */
  stop (): void {
    this.#stopped = true
    this.#probes.clear()
    this.#waiters.clear()
    this.#requests.clear()
    while (this.#tasks.pop() !== undefined) { /* drain */ }
  }

  get started (): boolean { return this.#started }
  get leaving (): boolean { return this.#leaving }
  get stopped (): boolean { return this.#stopped }

  /** Changes this member's metadata: a new incarnation, gossiped to everyone (others see `updated`). */
  setMetadata (meta: Metadata, nowMs: number): void {
    const err = metadataProblem(meta, this.config.maxMetadataBytes)
    if (err !== undefined) throw new InvalidOptionError(`meta: ${err}; raise maxMetadataBytes or send less`)
    if (this.#leaving || this.#stopped) return
    const self = this.#self
    this.#t.setMeta(self, { ...meta })
    this.#setState(self, 'alive', this.#t.incarnation(self) + 1, nowMs)
    this.#emit('updated', 'metadata-changed', self, 'alive', 'local', nowMs, this.id)
    this.#enqueueSelfAlive(nowMs)
  }

  /** The time of the next deadline, or undefined when nothing is scheduled. */
  nextDeadlineMs (): number | undefined {
    return this.#stopped ? undefined : this.#tasks.peekTime()
  }

  /** Runs every deadline due at or before `nowMs`. */
  tick (nowMs: number): void {
    if (this.#stopped) return
    for (;;) {
      const due = this.#tasks.peekTime()
      if (due === undefined || due > nowMs) return
      const entry = this.#tasks.pop()!
      this.#run(entry.value, entry.time, nowMs)
      if (this.#stopped) return
    }
  }

  /** Effects produced since the last call (sends, requests, events), in order. */
  takeEffects (): SwimEffect[] {
    const out = this.#outbox
    if (out.length > 0) this.#outbox = []
    return out
  }

  /**
   * Lifeguard input from the driver: one of our timers fired `lagMs` late, so our event loop stalled.
   * A stall raises the health score (we probe less often and wait longer).
   */
  reportLag (lagMs: number, _nowMs: number): void {
    if (!(lagMs > 0)) return
    if (lagMs > this.counters.maxLagMs) this.counters.maxLagMs = lagMs
    if (!this.config.lifeguard) return
    const cfg = this.config
    this.#applyHealth(lagHealthDelta(lagMs, cfg.lagThresholdMs, cfg.probeIntervalMs, cfg.awarenessMaxMultiplier - 1))
  }

  get localHealth (): LocalHealth {
    return { score: this.#health, multiplier: healthMultiplier(this.#health) }
  }

  /** The incremental checksum of the view (see checksum.ts). */
  checksum (): string { return this.#checksum.toString() }

  get incarnation (): number { return this.#t.incarnation(this.#self) }

  /** Alive and suspect members, this one included. */
  get liveMembers (): number { return this.#liveCount }

  /** Updates waiting in the dissemination queue. */
  get queueLength (): number { return this.#queue.length }

  /** A snapshot of every member this peer knows (itself and tombstones included). O(n). */
  members (): MemberInfo[] {
    const out: MemberInfo[] = []
    const t = this.#t
    for (let i = 0; i < t.size; i++) out.push(snapshot(t, t.at(i)))
    return out
  }

  /** One member, or undefined. */
  member (id: string): MemberInfo | undefined {
    const r = this.#find(id)
    return r === undefined ? undefined : snapshot(this.#t, r)
  }

  // -------------------------------------------------------------------------------------------------
  // inputs: datagrams, requests, request outcomes

  /** A datagram arrived from `from`. */
  handleDatagram (from: Address, msg: DatagramMessage, nowMs: number): void {
    if (this.#stopped || !this.#started) return
    const via: MemberEventVia = msg.type === 'gossip' ? 'gossip' : 'probe'
    this.#applyUpdates(msg.updates, nowMs, via, from)
    if (this.#stopped) return
    switch (msg.type) {
      case 'ping':
        this.#compareViews(from, msg.viewChecksum, nowMs)
        this.#onPing(from, msg)
        break
      case 'ping-req': this.#onPingReq(from, msg, nowMs); break
      case 'ack':
        this.#compareViews(from, msg.viewChecksum, nowMs)
        this.#onAck(msg, nowMs)
        break
      case 'nack': this.#onNack(msg); break
      case 'gossip': break
    }
  }

  /** A reliable request arrived: a push-pull exchange or a fallback probe. Returns the reply, if any. */
  handleRequest (from: Address, msg: PushPullRequest | PingMessage, nowMs: number): PushPullReply | OutgoingDatagram | undefined {
    if (this.#stopped || !this.#started) return undefined
    if (msg.type === 'ping') {
      this.#applyUpdates(msg.updates, nowMs, 'probe', from)
      if (msg.targetId !== this.id) { this.counters.wrongTarget++; return undefined }
      // Reliable pings are fallbacks and last chances: the prober may be about to give up on us, so the
      // answer always leads with our current alive record (our refutation, if there was one).
      const ack: OutgoingDatagram = { type: 'ack', seq: msg.seq, viewChecksum: this.#checksum.lane, updates: [] }
      if (this.#selfAliveBytes !== undefined && !this.#leaving) ack.updates.push(this.#selfAliveBytes)
      return this.#pack(ack, this.#find(msg.sourceId))
    }
    this.counters.pushPullsServed++
    const changes = this.#mergeState(msg.members, from, nowMs)
    if (!msg.join && pushPullCascades(changes, this.#liveCount)) this.#enterCascade(nowMs)
    return { type: 'push-pull-reply', members: this.#entries() }
  }

  /**
   * The outcome of a request the core asked for: the decoded reply, or an error (transport failure, or a
   * reply that did not decode).
   */
  handleRequestResult (requestId: number, reply: PushPullReply | AckMessage | undefined, error: string | undefined, nowMs: number): void {
    const ctx = this.#requests.get(requestId)
    if (ctx === undefined) return
    this.#requests.delete(requestId)
    if (this.#stopped) return
    if (ctx.kind === 'last-chance') {
      // A reply carries the refutation (applied here); a failure means there is no one left to refute.
      if (reply?.type === 'ack') this.#applyUpdates(reply.updates, nowMs, 'probe', undefined)
      else this.#declareDead(ctx.id, ctx.suspicion, nowMs)
      return
    }
    if (ctx.kind === 'fallback') {
      if (reply?.type !== 'ack') {
        // The reliable channel could not reach the target: no reason to wait before the indirect probes.
        const p = this.#probes.get(ctx.seq)
        if (p !== undefined) this.#sendIndirectProbes(p, nowMs)
        return
      }
      this.#applyUpdates(reply.updates, nowMs, 'probe', undefined)
      const p = this.#probes.get(ctx.seq)
      if (p !== undefined && reply.seq === ctx.seq) {
        this.counters.fallbackAcks++
        this.#probeSucceeded(p, nowMs)
      }
      return
    }
    if (error !== undefined || reply?.type !== 'push-pull-reply') {
      this.counters.pushPullFailures++
      return
    }
    const changes = this.#mergeState(reply.members, ctx.to, nowMs)
    // A join is expected to learn everything at once: that is not a sign of views drifting apart.
    if (!ctx.join && pushPullCascades(changes, this.#liveCount)) this.#enterCascade(nowMs)
  }

  // -------------------------------------------------------------------------------------------------
  // timers

  #schedule (atMs: number, task: Task): number {
    return this.#tasks.push(atMs, task)
  }

  #run (task: Task, dueMs: number, nowMs: number): void {
    switch (task.kind) {
      case 'probe': this.#startProbe(nowMs); break
      case 'probe-timeout':
        if (this.#graced(task, dueMs, nowMs)) return
        this.#probeTimedOut(task.seq, nowMs)
        break
      case 'indirect': {
        const p = this.#probes.get(task.seq)
        if (p !== undefined) this.#sendIndirectProbes(p, nowMs)
        break
      }
      case 'probe-end':
        if (this.#graced(task, dueMs, nowMs)) return
        this.#endProbe(task.seq, nowMs)
        break
      case 'waiter-expire': this.#expireWaiter(task.seq); break
      case 'suspicion':
        if (this.#graced(task, dueMs, nowMs)) return
        this.#suspicionExpired(task.id, task.suspicion, nowMs)
        break
      case 'last-chance': this.#declareDead(task.id, task.suspicion, nowMs); break
      case 'push-pull': this.#periodicPushPull(nowMs); break
      case 'cascade': this.#cascadePushPull(nowMs); break
      case 'dead-probe': this.#probeDeadMember(nowMs); break
      case 'burst': this.#burst(nowMs); break
      case 'reap': this.#reap(task.id, task.changedAtMs, nowMs); break
    }
  }

  /**
   * Lifeguard: a decision timer that fires late means our event loop stalled; replies that arrived
   * meanwhile may not be read yet. Put the decision off once, by a short grace.
   */
  #graced (task: { graced: boolean } & Task, dueMs: number, nowMs: number): boolean {
    if (!this.config.lifeguard || task.graced) return false
    const cfg = this.config
    let grace = lateTimerGraceMs(nowMs - dueMs, cfg.lagThresholdMs, cfg.probeIntervalMs)
    // Declaring a member dead while we ourselves are unhealthy (we just stalled, or miss acks) is how false
    // positives spread: wait one more period per point of health score for a refutation to reach us.
    if (task.kind === 'suspicion') grace = Math.max(grace, this.#health * cfg.probeIntervalMs)
    if (grace <= 0) return false
    task.graced = true
    this.counters.lateTimerGraces++
    const id = this.#schedule(nowMs + grace, task)
    if (task.kind === 'suspicion') task.suspicion.taskId = id
    return true
  }

  /** Start of the round `rounds` rounds after the current one (at our phase). */
  #nextRoundStart (nowMs: number, rounds: number): number {
    const p = this.config.probeIntervalMs
    return (probeRound(nowMs, this.#phaseMs, p) + rounds) * p + this.#phaseMs
  }

  // -------------------------------------------------------------------------------------------------
  // probing

  #startProbe (nowMs: number): void {
    if (this.#leaving) return
    const cfg = this.config
    const m = cfg.lifeguard ? healthMultiplier(this.#health) : 1
    const intervalMs = cfg.probeIntervalMs * m
    const timeoutMs = cfg.lifeguard ? probeTimeoutMs(cfg.probeTimeoutMs, this.#health) : cfg.probeTimeoutMs
    const round = probeRound(nowMs, this.#phaseMs, cfg.probeIntervalMs)
    const target = this.#pickProbeTarget(round)
    let next = this.#nextRoundStart(nowMs, m)
    if (target !== undefined) {
      const seq = this.#nextSeq()
      const probe: ActiveProbe = { seq, targetId: this.#t.id(target), startedAtMs: nowMs, intervalMs, timeoutMs, expectedNacks: 0, nacks: 0, indirectSent: false }
      this.#probes.set(seq, probe)
      this.counters.probes++
      this.#send(this.#t.address(target), this.#pack({ type: 'ping', seq, targetId: this.#t.id(target), sourceId: this.id, viewChecksum: this.#checksum.lane, updates: [] }, target))
      this.#schedule(nowMs + timeoutMs, { kind: 'probe-timeout', seq, graced: false })
      this.#schedule(nowMs + intervalMs, { kind: 'probe-end', seq, graced: false })
      while (next < nowMs + intervalMs) next += cfg.probeIntervalMs
    }
    this.#schedule(next, { kind: 'probe' })
  }

  /** The member this round's shift points at, or the next probe-able one after it. */
  #pickProbeTarget (round: number): MemberRecord | undefined {
    const order = this.#order
    const n = order.size
    if (n < 2) return undefined
    if (this.#selfIndexVersion !== order.version) {
      this.#selfIndex = order.indexOf(this.id)
      this.#selfIndexVersion = order.version
    }
    const self = this.#selfIndex
    invariant(self >= 0, 'self is in the probe order')
    const offset = probeOffset(round, n)
    for (let i = 0; i < n - 1; i++) {
      const idx = (self + offset + i) % n
      const r = order.numberAt(idx)
      if (r !== this.#self && (this.#t.state(r) === 'alive' || this.#t.state(r) === 'suspect')) return r
    }
    return undefined
  }

  /**
   * No direct ack in time. With the reliable fallback on, it goes first (one request instead of 4k
   * datagrams; packet loss cannot stop it) and the indirect probes follow only if it has not been answered
   * a little later, or at once if it fails. Without it, the indirect probes go now.
   */
  #probeTimedOut (seq: number, nowMs: number): void {
    const p = this.#probes.get(seq)
    if (p === undefined) return
    const target = this.#find(p.targetId)
    if (target === undefined || (this.#t.state(target) !== 'alive' && this.#t.state(target) !== 'suspect')) return
    const cfg = this.config
    const remaining = p.startedAtMs + p.intervalMs - nowMs
    if (cfg.reliableProbeFallback && remaining > 0) {
      this.counters.fallbackProbes++
      const requestId = ++this.#requestId
      this.#requests.set(requestId, { kind: 'fallback', seq })
      const ping = this.#pack({ type: 'ping', seq, targetId: this.#t.id(target), sourceId: this.id, viewChecksum: this.#checksum.lane, updates: [] }, target)
      this.#outbox.push({ kind: 'request', to: this.#t.address(target), requestId, message: ping, timeoutMs: remaining })
      this.#schedule(nowMs + indirectProbeDelayMs(p.intervalMs, p.timeoutMs), { kind: 'indirect', seq })
      return
    }
    this.#sendIndirectProbes(p, nowMs)
  }

  /** Asks `indirectChecks` random members to probe the target for us (ping-req), once per probe. */
  #sendIndirectProbes (p: ActiveProbe, nowMs: number): void {
    if (p.indirectSent || this.#probes.get(p.seq) !== p) return
    p.indirectSent = true
    const target = this.#find(p.targetId)
    if (target === undefined || (this.#t.state(target) !== 'alive' && this.#t.state(target) !== 'suspect')) return
    const cfg = this.config
    const relays = this.#randomAliveMembers(cfg.indirectChecks, p.targetId)
    const nackTimeoutMs = relayNackTimeoutMs(p.startedAtMs + p.intervalMs - nowMs)
    for (const relay of relays) {
      this.counters.indirectProbes++
      const msg: PingReqMessage<Uint8Array> = {
        type: 'ping-req', seq: p.seq, targetId: this.#t.id(target), targetAddress: this.#t.address(target), sourceId: this.id,
        wantNack: cfg.lifeguard, nackTimeoutMs, updates: []
      }
      this.#send(this.#t.address(relay), this.#pack(msg, target))
    }
    if (cfg.lifeguard) p.expectedNacks = relays.length
  }

  #probeSucceeded (p: ActiveProbe, _nowMs: number): void {
    this.#probes.delete(p.seq)
    if (this.config.lifeguard) this.#applyHealth(probeHealthDelta(true, 0, 0))
  }

  #endProbe (seq: number, nowMs: number): void {
    const p = this.#probes.get(seq)
    if (p === undefined) return
    this.#probes.delete(seq)
    this.counters.probesFailed++
    if (this.config.lifeguard) this.#applyHealth(probeHealthDelta(false, p.expectedNacks, p.nacks))
    this.#suspectFromProbe(p.targetId, nowMs)
  }

  #onPing (from: Address, msg: PingMessage): void {
    if (msg.targetId !== this.id) { this.counters.wrongTarget++; return }
    this.#send(from, this.#pack({ type: 'ack', seq: msg.seq, viewChecksum: this.#checksum.lane, updates: [] }, this.#find(msg.sourceId)))
  }

  #onPingReq (from: Address, msg: PingReqMessage, nowMs: number): void {
    if (msg.targetId === this.id) {
      this.#send(from, this.#pack({ type: 'ack', seq: msg.seq, viewChecksum: this.#checksum.lane, updates: [] }, this.#find(msg.sourceId)))
      return
    }
    if (this.#relays >= MAX_PENDING_RELAYS) { this.counters.relaysRefused++; return }
    const seq = this.#nextSeq()
    this.#relays++
    this.#waiters.set(seq, { kind: 'relay', requester: from, requesterSeq: msg.seq, requesterId: msg.sourceId, wantNack: msg.wantNack })
    const waitMs = Math.min(Math.max(1, msg.nackTimeoutMs), this.config.probeIntervalMs * 2)
    this.#schedule(nowMs + waitMs, { kind: 'waiter-expire', seq })
    const target = this.#find(msg.targetId)
    this.#send(msg.targetAddress, this.#pack({ type: 'ping', seq, targetId: msg.targetId, sourceId: this.id, viewChecksum: this.#checksum.lane, updates: [] }, target))
  }

  #onAck (msg: AckMessage, nowMs: number): void {
    const p = this.#probes.get(msg.seq)
    if (p !== undefined) { this.#probeSucceeded(p, nowMs); return }
    const w = this.#waiters.get(msg.seq)
    if (w === undefined) { this.counters.unexpectedAcks++; return }
    switch (w.kind) {
      case 'relay':
        this.#waiters.delete(msg.seq)
        this.#relays--
        this.#send(w.requester, this.#pack({ type: 'ack', seq: w.requesterSeq, viewChecksum: this.#checksum.lane, updates: [] }, this.#find(w.requesterId)))
        break
      case 'reprobe': {
        this.#waiters.delete(msg.seq)
        // A member we held dead answered: the network between us works again. Merge views in bulk.
        const r = this.#find(w.targetId)
        if (r !== undefined) this.#startPushPull(this.#t.address(r), false, nowMs)
        break
      }
    }
  }

  #onNack (msg: NackMessage): void {
    const p = this.#probes.get(msg.seq)
    if (p === undefined) { this.counters.unexpectedAcks++; return }
    this.counters.nacksReceived++
    p.nacks++
  }

  #expireWaiter (seq: number): void {
    const w = this.#waiters.get(seq)
    if (w === undefined) return
    this.#waiters.delete(seq)
    if (w.kind === 'relay') {
      this.#relays--
      if (w.wantNack) this.#send(w.requester, this.#pack({ type: 'nack', seq: w.requesterSeq, updates: [] }, undefined))
    }
  }

  #probeDeadMember (nowMs: number): void {
    const cfg = this.config
    this.#schedule(nowMs + deadProbeIntervalMs(cfg.deadProbeIntervalMs, this.#liveCount), { kind: 'dead-probe' })
    if (this.#leaving || this.#deadIds.length === 0) return
    const target = this.#deadIds[this.#random.int(this.#deadIds.length)]
    const seq = this.#nextSeq()
    this.counters.deadProbes++
    this.#waiters.set(seq, { kind: 'reprobe', targetId: this.#t.id(target) })
    this.#schedule(nowMs + cfg.probeIntervalMs, { kind: 'waiter-expire', seq })
    this.#send(this.#t.address(target), this.#pack({ type: 'ping', seq, targetId: this.#t.id(target), sourceId: this.id, viewChecksum: this.#checksum.lane, updates: [] }, target))
  }

  // -------------------------------------------------------------------------------------------------
  // suspicion

  #suspicionBounds (): { minMs: number, maxMs: number, wanted: number } {
    const cfg = this.config
    const n = this.#liveCount
    // Plain SWIM: memberlist's fixed timeout before Lifeguard. Lifeguard: dynamic, from max down to min,
    // and min never below the floor (a stall of a few seconds must not kill a live member).
    if (!cfg.lifeguard) {
      const fixedMs = suspicionMinMs(cfg.suspicionMult, n, cfg.probeIntervalMs)
      return { minMs: fixedMs, maxMs: fixedMs, wanted: 0 }
    }
    const minMs = suspicionMinMs(cfg.suspicionMult, n, cfg.probeIntervalMs, cfg.suspicionFloorMs)
    return { minMs, maxMs: suspicionMaxMs(minMs, cfg.suspicionMaxMult), wanted: suspicionConfirmationsWanted(cfg.suspicionConfirmations, n) }
  }

  #startSuspicion (r: MemberRecord, incarnation: number, accusers: readonly string[], nowMs: number): void {
    const b = this.#suspicionBounds()
    this.#setState(r, 'suspect', incarnation, nowMs)
    const s = new Suspicion(nowMs, accusers, b.wanted, b.minMs, b.maxMs)
    this.#t.setSuspicion(r, s)
    s.taskId = this.#schedule(s.deadlineMs(), { kind: 'suspicion', id: this.#t.id(r), suspicion: s, graced: false })
  }

  /**
   * New accusers shortened the suspicion: move its timer. A deadline already past stays in the past, so
   * the timer runs at once but still sees how late it is (and gets the late-timer grace).
   */
  #rescheduleSuspicion (r: MemberRecord, s: Suspicion, _nowMs: number): void {
    this.#tasks.cancel(s.taskId)
    s.taskId = this.#schedule(s.deadlineMs(), { kind: 'suspicion', id: this.#t.id(r), suspicion: s, graced: false })
  }

  #suspectFromProbe (id: string, nowMs: number): void {
    const r = this.#find(id)
    if (r === undefined) return
    const suspicion = this.#t.suspicion(r)
    if (this.#t.state(r) === 'alive') {
      this.counters.suspicionsRaised++
      this.#startSuspicion(r, this.#t.incarnation(r), [this.id], nowMs)
      this.#emit('suspect', 'probe-failed', r, 'alive', 'probe', nowMs, this.id)
      const u = this.#suspectUpdate(r)
      this.#enqueue(u, 1, nowMs)
      // Lifeguard's buddy system, at once: tell the suspect, so it can refute before anyone else hears.
      if (this.config.lifeguard) this.#sendGossip(this.#t.address(r), [encodeUpdate(u)], nowMs)
    } else if (this.#t.state(r) === 'suspect' && suspicion !== undefined) {
      if (suspicion.confirm([this.id]) > 0) {
        this.counters.confirmations++
        this.#rescheduleSuspicion(r, suspicion, nowMs)
        this.#enqueue(this.#suspectUpdate(r), 1, nowMs)
      }
    }
  }

  /**
   * The suspicion ran out. Lifeguard: before declaring the member dead, one last probe over the reliable
   * channel, carrying the suspicion. A member that is alive (it stalled, or its refutation has not reached
   * us yet) answers with its refutation within a round trip; a crashed one fails at once. Only the first
   * peers whose timers run out pay for it: the others hear of the death by gossip first.
   */
  #suspicionExpired (id: string, s: Suspicion, nowMs: number): void {
    const r = this.#find(id)
    if (r === undefined || this.#t.state(r) !== 'suspect' || this.#t.suspicion(r) !== s) return
    if (!this.config.lifeguard) { this.#declareDead(id, s, nowMs); return }
    this.counters.lastChanceProbes++
    const requestId = ++this.#requestId
    this.#requests.set(requestId, { kind: 'last-chance', id, suspicion: s })
    const ping = this.#pack({ type: 'ping', seq: this.#nextSeq(), targetId: this.#t.id(r), sourceId: this.id, viewChecksum: this.#checksum.lane, updates: [] }, r)
    const waitMs = this.config.probeTimeoutMs
    this.#outbox.push({ kind: 'request', to: this.#t.address(r), requestId, message: ping, timeoutMs: waitMs })
    this.#schedule(nowMs + waitMs, { kind: 'last-chance', id, suspicion: s })
  }

  #declareDead (id: string, s: Suspicion, nowMs: number): void {
    const r = this.#find(id)
    if (r === undefined || this.#t.state(r) !== 'suspect' || this.#t.suspicion(r) !== s) return
    this.counters.deadDeclared++
    this.#setState(r, 'dead', this.#t.incarnation(r), nowMs)
    this.#emit('dead', 'suspect-timeout', r, 'suspect', 'timer', nowMs, this.id)
    this.#enqueue({ kind: 'dead', id: this.#t.id(r), incarnation: this.#t.incarnation(r), from: this.id }, 0, nowMs)
  }

  #suspectUpdate (r: MemberRecord): MemberUpdate {
    const s = this.#t.suspicion(r)
    return { kind: 'suspect', id: this.#t.id(r), incarnation: this.#t.incarnation(r), accusers: s === undefined ? [] : s.accusers.slice() }
  }

  // -------------------------------------------------------------------------------------------------
  // updates

  /**
   * Applies piggybacked updates from `from`. An update older than what we know (a member under an
   * incarnation below the alive one we hold) means the sender's gossip about that member died out before
   * reaching it: we send the sender our newer record, so stale views heal without waiting for a push-pull.
   * If the stale claim is about us, the sender's whole view is likely stale: we also repair it in bulk
   * with a push-pull, at most once per two periods.
   */
  #applyUpdates (updates: readonly MemberUpdate[], nowMs: number, via: MemberEventVia, from: Address | undefined): void {
    let corrections: Uint8Array[] | undefined
    let staleAboutUs = false
    for (let i = 0; i < updates.length; i++) {
      const u = updates[i]
      const r = this.#find(u.id)
      if (from !== undefined && r !== undefined && this.#t.state(r) === 'alive' && u.incarnation < this.#t.incarnation(r) && (u.kind !== 'alive' || r === this.#self)) {
        if (r === this.#self) staleAboutUs = true
        corrections ??= []
        if (corrections.length < MAX_CORRECTIONS) corrections.push(this.#aliveBytes(r))
      }
      this.#applyUpdate(u, r, nowMs, via)
      if (this.#stopped) return
    }
    if (corrections === undefined || from === undefined || this.#leaving) return
    this.#sendGossip(from, corrections, nowMs)
    if (staleAboutUs && nowMs - this.#lastRepairAtMs >= REPAIR_ROUNDS * this.config.probeIntervalMs) {
      this.#lastRepairAtMs = nowMs
      this.counters.pushPullRepairs++
      this.#startPushPull(from, false, nowMs)
    }
  }

  /**
   * Anti-entropy on disagreement: pings and acks carry 32 bits of the sender's view checksum. When ours
   * has not changed for `STABLE_VIEW_ROUNDS` periods and still differs from a peer's, one of us holds
   * something stale that gossip no longer carries (its retransmissions ran out): a push-pull with that
   * peer repairs both views. Rate-limited; free while views agree.
   */
  #compareViews (from: Address, viewChecksum: number, nowMs: number): void {
    if (viewChecksum === this.#checksum.lane || this.#leaving) return
    const p = this.config.probeIntervalMs
    if (nowMs - this.#lastViewChangeMs < STABLE_VIEW_ROUNDS * p || nowMs - this.#lastRepairAtMs < REPAIR_ROUNDS * p) return
    this.#lastRepairAtMs = nowMs
    this.counters.pushPullRepairs++
    this.#startPushPull(from, false, nowMs)
  }

  /** The encoded alive update of a member as we hold it (the queued bytes when they match). */
  #aliveBytes (r: MemberRecord): Uint8Array {
    if (r === this.#self && this.#selfAliveBytes !== undefined) return this.#selfAliveBytes
    const queued = this.#queue.get(this.#t.id(r))
    if (queued !== undefined && queued.update.kind === 'alive' && queued.update.incarnation === this.#t.incarnation(r)) return queued.bytes
    return encodeUpdate({ kind: 'alive', id: this.#t.id(r), incarnation: this.#t.incarnation(r), address: this.#t.address(r), meta: this.#t.meta(r) })
  }

  /** Applies one update about the member `r` (undefined: unknown to us; `#self`: us); true if our view changed. */
  #applyUpdate (u: MemberUpdate, r: MemberRecord | undefined, nowMs: number, via: MemberEventVia): boolean {
    switch (u.kind) {
      case 'alive': return this.#applyAlive(r, u.id, u.incarnation, u.address, u.meta, nowMs, via, true)
      case 'suspect': return this.#applySuspect(r, u.incarnation, u.accusers, nowMs, via, 'suspected')
      case 'dead': return this.#applyDead(r, u.incarnation, u.from, nowMs, via)
      case 'left': return this.#applyLeft(r, u.incarnation, nowMs, via)
    }
  }

  #applyAlive (r: MemberRecord | undefined, id: string, incarnation: number, address: string, meta: Metadata, nowMs: number, via: MemberEventVia, gossipNew: boolean): boolean {
    if (r === this.#self) {
      const self = this.#self
      if (this.#leaving) return false
      if (incarnation > this.#t.incarnation(self) || (incarnation === this.#t.incarnation(self) && (address !== this.#t.address(self) || !sameMeta(meta, this.#t.meta(self))))) {
        this.#refute(incarnation, 'incarnation-conflict', [], nowMs, via)
        return true
      }
      return false
    }
    if (r === undefined) {
      const rec = this.#addRecord(id, address, meta, incarnation, 'alive', nowMs)
      this.#emit('joined', 'new-member', rec, undefined, via, nowMs, id)
      if (gossipNew) this.#enqueue({ kind: 'alive', id, incarnation, address, meta }, 2, nowMs)
      return true
    }
    if (incarnation <= this.#t.incarnation(r)) return false
    const previous = this.#t.state(r)
    const addressChanged = address !== this.#t.address(r)
    const metaChanged = !sameMeta(meta, this.#t.meta(r))
    this.#t.setAddress(r, address)
    if (metaChanged) this.#t.setMeta(r, meta)
    this.#setState(r, 'alive', incarnation, nowMs)
    if (previous === 'dead' || previous === 'left') this.#emit('joined', 'rejoined', r, previous, via, nowMs, id)
    else if (previous === 'suspect') this.#emit('alive', 'refutation', r, previous, via, nowMs, id)
    else if (metaChanged) this.#emit('updated', 'metadata-changed', r, previous, via, nowMs, id)
    else if (addressChanged) this.#emit('updated', 'address-changed', r, previous, via, nowMs, id)
    // Lifeguard: a refutation races the suspicion timers of everyone who heard the suspicion, so whoever
    // held the member suspect (or already dead) passes it on first, ahead of suspicions. (Only the
    // refuter itself also pushes it out at once: bursts at every hop would cost n messages per refutation.)
    const first = this.config.lifeguard && (previous === 'suspect' || previous === 'dead')
    this.#enqueue({ kind: 'alive', id, incarnation, address, meta: this.#t.meta(r) }, first ? 0 : 2, nowMs, !first)
    return true
  }

  #applySuspect (r: MemberRecord | undefined, incarnation: number, accusers: readonly string[], nowMs: number, via: MemberEventVia, selfReason: MemberEventReason): boolean {
    if (r === this.#self) {
      if (this.#leaving || incarnation < this.#t.incarnation(this.#self)) return false
      this.#refute(incarnation, selfReason, accusers, nowMs, via)
      return true
    }
    if (r === undefined || incarnation < this.#t.incarnation(r) || this.#t.state(r) === 'dead' || this.#t.state(r) === 'left') return false
    const suspicion = this.#t.suspicion(r)
    if (this.#t.state(r) === 'suspect' && suspicion !== undefined) {
      let changed = false
      if (incarnation > this.#t.incarnation(r)) {
        this.#setState(r, 'suspect', incarnation, nowMs)
        changed = true
      }
      const added = suspicion.confirm(accusers)
      if (added > 0) {
        this.counters.confirmations += added
        this.#rescheduleSuspicion(r, suspicion, nowMs)
        changed = true
      }
      if (changed) this.#enqueue(this.#suspectUpdate(r), 1, nowMs)
      return changed
    }
    this.#startSuspicion(r, incarnation, accusers, nowMs)
    this.#emit('suspect', 'reported', r, 'alive', via, nowMs, accusers[0])
    this.#enqueue(this.#suspectUpdate(r), 1, nowMs)
    return true
  }

  #applyDead (r: MemberRecord | undefined, incarnation: number, from: string, nowMs: number, via: MemberEventVia): boolean {
    if (r === this.#self) {
      if (this.#leaving || incarnation < this.#t.incarnation(this.#self)) return false
      this.#refute(incarnation, 'declared-dead', [from], nowMs, via)
      return true
    }
    if (r === undefined || incarnation < this.#t.incarnation(r) || this.#t.state(r) === 'dead' || this.#t.state(r) === 'left') return false
    const previous = this.#t.state(r)
    this.#setState(r, 'dead', incarnation, nowMs)
    this.#emit('dead', 'reported', r, previous, via, nowMs, from)
    this.#enqueue({ kind: 'dead', id: this.#t.id(r), incarnation, from }, 0, nowMs)
    return true
  }

  #applyLeft (r: MemberRecord | undefined, incarnation: number, nowMs: number, via: MemberEventVia): boolean {
    if (r === this.#self) {
      if (this.#leaving || incarnation < this.#t.incarnation(this.#self)) return false
      this.#refute(incarnation, 'declared-left', [], nowMs, via)
      return true
    }
    if (r === undefined || incarnation < this.#t.incarnation(r) || this.#t.state(r) === 'left') return false
    if (this.#t.state(r) === 'dead' && incarnation === this.#t.incarnation(r)) return false
    const previous = this.#t.state(r)
    this.#setState(r, 'left', incarnation, nowMs)
    this.#emit('left', 'graceful-leave', r, previous, via, nowMs, this.#t.id(r))
    this.#enqueue({ kind: 'left', id: this.#t.id(r), incarnation }, 0, nowMs)
    return true
  }

  /** Someone claims we are suspect, dead, left or older than we are: raise our incarnation above the claim. */
  #refute (claimedIncarnation: number, reason: MemberEventReason, accusers: readonly string[], nowMs: number, via: MemberEventVia): void {
    const self = this.#self
    this.counters.refutations++
    this.#setState(self, 'alive', Math.max(this.#t.incarnation(self), claimedIncarnation) + 1, nowMs)
    if (this.config.lifeguard) this.#applyHealth(1)
    this.#emit('refuted', reason, self, 'alive', via, nowMs, accusers[0])
    this.#enqueueSelfAlive(nowMs)
    // Lifeguard's buddy system, the other way: the accusers run the shortest timers; tell them first.
    if (this.config.lifeguard) {
      const bytes = this.#selfAliveBytes!
      for (const a of accusers) {
        const r = this.#find(a)
        if (r !== undefined && r !== self && this.#t.state(r) !== 'left') this.#sendGossip(this.#t.address(r), [bytes], nowMs)
      }
    }
  }

  /**
   * Merges a push-pull state; returns how many entries changed what we held about a member we already
   * knew (a state or incarnation change: what a healed partition brings). Members we had never heard of
   * are not counted: many at once is a mass join, which gossip and the periodic push-pull already carry,
   * and starting a cascade of full-state exchanges for it costs O(n) per exchange at every peer (at 2,000
   * peers that made the join storm 8x slower than at 1,000). A new member is gossiped on only if the
   * entry is the sender's own (a joiner): the others are already being gossiped by whoever learned of
   * them first, and re-gossiping a whole state would flood every queue during a mass join.
   */
  #mergeState (entries: readonly MemberEntry[], senderAddress: Address, nowMs: number): number {
    let changes = 0
    for (const e of entries) {
      let changed = false
      const r = this.#find(e.id)
      switch (e.state) {
        case 'alive':
          changed = this.#applyAlive(r, e.id, e.incarnation, e.address, e.meta, nowMs, 'push-pull', e.address === senderAddress)
          break
        case 'left':
          changed = this.#applyLeft(r, e.incarnation, nowMs, 'push-pull')
          break
        case 'suspect':
          changed = this.#applySuspect(r, e.incarnation, [], nowMs, 'push-pull', 'suspected')
          break
        case 'dead':
          // Like memberlist: another view's "dead" only makes us suspect, so a live member can still refute.
          changed = this.#applySuspect(r, e.incarnation, [], nowMs, 'push-pull', 'declared-dead')
          break
      }
      if (changed && r !== undefined) changes++
      if (this.#stopped) break
    }
    return changes
  }

  /**
   * Our whole view for a push-pull. The records themselves are handed out (they have the shape of a
   * MemberEntry): the driver encodes them before anything else runs, so no copy is needed.
   */
  #entries (): MemberEntry[] {
    const t = this.#t
    const out: MemberEntry[] = []
    for (let i = 0; i < t.size; i++) {
      const m = t.at(i)
      out.push({ id: t.id(m), address: t.address(m), incarnation: t.incarnation(m), state: t.state(m), meta: t.meta(m) })
    }
    return out
  }

  // -------------------------------------------------------------------------------------------------
  // dissemination

  #enqueueSelfAlive (nowMs: number): void {
    const self = this.#self
    const u: MemberUpdate = { kind: 'alive', id: this.id, incarnation: this.#t.incarnation(self), address: this.#t.address(self), meta: this.#t.meta(self) }
    this.#selfAliveBytes = encodeUpdate(u)
    this.#enqueueBytes(u, this.#selfAliveBytes, 0, nowMs)
  }

  /** Queues an update for piggybacking; an urgent one (priority 0) also triggers a burst unless `burst` is false. */
  #enqueue (u: MemberUpdate, priority: UpdatePriority, nowMs: number, burst = true): void {
    const shared = sharedUpdate(u)
    this.#enqueueBytes(shared.update, shared.bytes, priority, nowMs, burst)
  }

  #enqueueBytes (u: MemberUpdate, bytes: Uint8Array, priority: UpdatePriority, nowMs: number, burst = true): void {
    const before = this.#queue.drops
    this.#queue.enqueue(u, bytes, priority)
    this.counters.queueDrops += this.#queue.drops - before
    if (burst && priority === 0 && this.config.gossipFanout > 0 && !this.#burstPending && this.#started) {
      this.#burstPending = true
      this.#schedule(Math.max(nowMs, this.#lastBurstAtMs + this.config.gossipIntervalMs), { kind: 'burst' })
    }
  }

  /** Pushes the most urgent updates to a few random members at once (fan-out gossip). */
  #burst (nowMs: number): void {
    this.#burstPending = false
    this.#lastBurstAtMs = nowMs
    const fanout = this.#leaving ? Math.max(this.config.gossipFanout, this.config.indirectChecks + 1) : this.config.gossipFanout
    const targets = this.#randomAliveMembers(fanout, undefined)
    let sent = false
    for (const t of targets) {
      const msg = this.#pack({ type: 'gossip', sourceId: this.id, viewChecksum: this.#checksum.lane, updates: [] }, undefined)
      if (msg.updates.length === 0) break
      this.#send(this.#t.address(t), msg)
      sent = true
    }
    if (sent) this.counters.gossipBursts++
  }

  #sendGossip (to: Address, updates: Uint8Array[], _nowMs: number): void {
    const msg: OutgoingDatagram = { type: 'gossip', sourceId: this.id, updates }
    let size = datagramBaseBytes(msg)
    for (const u of updates) size += piggybackBytes(u)
    if (size <= this.maxDatagramBytes) this.#send(to, msg)
  }

  /**
   * Fills a datagram with piggybacked updates. `about` is the member the message goes to or is about:
   * when we hold it suspect, dead or left, its status goes first (Lifeguard's buddy system: a suspect
   * learns of its suspicion from the very probe that tests it, and can refute at once).
   */
  #pack<M extends OutgoingDatagram> (msg: M, about: MemberRecord | undefined): M {
    let budget = this.maxDatagramBytes - datagramBaseBytes(msg)
    for (const u of msg.updates) budget -= piggybackBytes(u)
    let skip: string | undefined
    if (about !== undefined && about !== this.#self && this.#t.state(about) !== 'alive') {
      const statusBytes = this.#statusBytes(about)
      const size = piggybackBytes(statusBytes)
      if (size <= budget) {
        msg.updates.push(statusBytes)
        budget -= size
        skip = this.#t.id(about)
      }
    }
    const limit = retransmitLimit(this.config.retransmitMult, this.#liveCount)
    this.#queue.pack(budget, limit, MEMBERSHIP_LIMITS.maxUpdatesPerMessage - msg.updates.length, msg.updates, skip)
    return msg
  }

  /** The encoded suspect/dead/left update describing a member as we see it. */
  #statusBytes (r: MemberRecord): Uint8Array {
    const queued = this.#queue.get(this.#t.id(r))
    if (queued !== undefined && queued.update.kind === this.#t.state(r) && queued.update.incarnation === this.#t.incarnation(r)) return queued.bytes
    if (this.#t.state(r) === 'suspect') return encodeUpdate(this.#suspectUpdate(r))
    if (this.#t.state(r) === 'left') return encodeUpdate({ kind: 'left', id: this.#t.id(r), incarnation: this.#t.incarnation(r) })
    return encodeUpdate({ kind: 'dead', id: this.#t.id(r), incarnation: this.#t.incarnation(r), from: this.id })
  }

  #send (to: Address, message: OutgoingDatagram): void {
    if (to === '' || to === this.address) return
    this.#outbox.push({ kind: 'send', to, message })
  }

  // -------------------------------------------------------------------------------------------------
  // push-pull

  #startPushPull (to: Address, join: boolean, _nowMs: number): number {
    const requestId = ++this.#requestId
    if (to === '' || to === this.address) return requestId
    this.counters.pushPulls++
    this.#requests.set(requestId, { kind: 'push-pull', to, join })
    const message: OutgoingRequest = { type: 'push-pull-request', sourceId: this.id, join, members: this.#entries() }
    this.#outbox.push({ kind: 'request', to, requestId, message, timeoutMs: this.config.pushPullTimeoutMs })
    return requestId
  }

  #periodicPushPull (nowMs: number): void {
    const cfg = this.config
    this.#schedule(nowMs + pushPullIntervalMs(cfg.pushPullIntervalMs, this.#liveCount), { kind: 'push-pull' })
    if (this.#leaving) return
    const [peer] = this.#randomAliveMembers(1, undefined)
    if (peer !== undefined) this.#startPushPull(this.#t.address(peer), false, nowMs)
  }

  /**
   * A state exchange found views far apart (a healed partition): push-pull with a random member every
   * period until `CASCADE_ROUNDS` periods pass without another such exchange. Full-state anti-entropy
   * then spreads like an epidemic; piggybacked gossip alone would take minutes for hundreds of changes.
   */
  #enterCascade (nowMs: number): void {
    if (this.#leaving) return
    this.#cascadeUntilMs = nowMs + CASCADE_ROUNDS * this.config.probeIntervalMs
    if (this.#cascadePending) return
    this.#cascadePending = true
    this.#schedule(nowMs + this.config.probeIntervalMs, { kind: 'cascade' })
  }

  #cascadePushPull (nowMs: number): void {
    this.#cascadePending = false
    if (this.#leaving || nowMs > this.#cascadeUntilMs) return
    const [peer] = this.#randomAliveMembers(1, undefined)
    if (peer !== undefined) {
      this.counters.pushPullCascades++
      this.#startPushPull(this.#t.address(peer), false, nowMs)
    }
    this.#cascadePending = true
    this.#schedule(nowMs + this.config.probeIntervalMs, { kind: 'cascade' })
  }

  // -------------------------------------------------------------------------------------------------
  // records

  #addRecord (id: string, address: Address, meta: Metadata, incarnation: number, state: MemberState, nowMs: number): MemberRecord {
    const r = this.#t.add(id, address, meta, incarnation, state, nowMs)
    this.#order.insert(id)
    this.#checksum.add(id, incarnation, state)
    this.#lastViewChangeMs = nowMs
    if (state === 'alive' || state === 'suspect') this.#liveCount++
    return r
  }

  /** The one place a record's (incarnation, state) changes: keeps checksum, counts, dead list and timers right. */
  #setState (r: MemberRecord, state: MemberState, incarnation: number, nowMs: number): void {
    const before = this.#t.state(r)
    if (before !== state || this.#t.incarnation(r) !== incarnation) this.#lastViewChangeMs = nowMs
    this.#checksum.remove(this.#t.id(r), this.#t.incarnation(r), before)
    this.#checksum.add(this.#t.id(r), incarnation, state)
    const wasLive = before === 'alive' || before === 'suspect'
    const isLive = state === 'alive' || state === 'suspect'
    if (wasLive && !isLive) this.#liveCount--
    else if (!wasLive && isLive) this.#liveCount++
    const suspicion = this.#t.suspicion(r)
    if (state !== 'suspect' && suspicion !== undefined) {
      this.#tasks.cancel(suspicion.taskId)
      this.#t.setSuspicion(r, undefined)
    }
    if (before === 'dead' && state !== 'dead') this.#removeDead(r)
    if (state === 'dead' && before !== 'dead' && r !== this.#self) {
      this.#deadIds.push(r)
      this.#t.setDeadSlot(r, this.#deadIds.length)
    }
    this.#t.setIncarnation(r, incarnation)
    if (before !== state) this.#t.setChangedAtMs(r, nowMs)
    this.#t.setState(r, state)
    if ((state === 'dead' || state === 'left') && before !== state && r !== this.#self) {
      this.#schedule(nowMs + this.config.tombstoneTimeoutMs, { kind: 'reap', id: this.#t.id(r), changedAtMs: this.#t.changedAtMs(r) })
    }
  }

  #removeDead (r: MemberRecord): void {
    const i = this.#t.deadSlot(r) - 1
    if (i < 0) return
    const last = this.#deadIds.pop()!
    if (i < this.#deadIds.length) {
      this.#deadIds[i] = last
      this.#t.setDeadSlot(last, i + 1)
    }
    this.#t.setDeadSlot(r, 0)
  }

  #reap (id: string, changedAtMs: number, nowMs: number): void {
    const r = this.#find(id)
    if (r === undefined || (this.#t.state(r) !== 'dead' && this.#t.state(r) !== 'left') || this.#t.changedAtMs(r) !== changedAtMs) return
    this.#removeDead(r)
    const member = snapshot(this.#t, r)
    this.#t.delete(r)
    this.#order.remove(id)
    this.#checksum.remove(id, member.incarnation, member.state)
    this.#lastViewChangeMs = nowMs
    this.#queue.remove(id)
    this.#emitSnapshot('reaped', 'tombstone-expired', member, member.state, 'timer', nowMs, undefined)
  }

  // -------------------------------------------------------------------------------------------------
  // helpers

  #applyHealth (delta: number): void {
    if (delta === 0) return
    const max = this.config.awarenessMaxMultiplier - 1
    this.#health = Math.min(max, Math.max(0, this.#health + delta))
  }

  #nextSeq (): number {
    this.#seq = (this.#seq + 1) % SEQ_MODULUS
    return this.#seq
  }

  /** Up to k random alive members other than us and `exclude` (memberlist's kRandomNodes). */
  #randomAliveMembers (k: number, exclude: string | undefined): MemberRecord[] {
    const out: MemberRecord[] = []
    if (k <= 0) return out
    const order = this.#order
    const n = order.size
    const eligible = (r: MemberRecord): boolean => r !== this.#self && this.#t.state(r) === 'alive' && this.#t.id(r) !== exclude
    if (n <= 3 * k + 2) {
      const all: MemberRecord[] = []
      for (let i = 0; i < n; i++) {
        const r = order.numberAt(i)
        if (eligible(r)) all.push(r)
      }
      this.#random.shuffle(all)
      return all.slice(0, k)
    }
    for (let tries = 0; tries < 3 * n && out.length < k; tries++) {
      const r = order.numberAt(this.#random.int(n))
      if (eligible(r) && !out.includes(r)) out.push(r)
    }
    return out
  }

  #emit (type: MemberEventType, reason: MemberEventReason, r: MemberRecord, previousState: MemberState | undefined,
    via: MemberEventVia, nowMs: number, source: string | undefined): void {
    this.#emitSnapshot(type, reason, snapshot(this.#t, r), previousState, via, nowMs, source)
  }

  #emitSnapshot (type: MemberEventType, reason: MemberEventReason, member: MemberInfo, previousState: MemberState | undefined,
    via: MemberEventVia, nowMs: number, source: string | undefined): void {
    const event: MemberEvent = source === undefined
      ? { type, reason, member, previousState, via, atMs: nowMs }
      : { type, reason, member, previousState, via, source, atMs: nowMs }
    this.#outbox.push({ kind: 'event', event })
  }

  /** The member `id` if this peer holds it. */
  #find (id: string): MemberRecord | undefined {
    const m = this.#t.find(id)
    return m < 0 ? undefined : m
  }
}

function snapshot (t: MemberTable, m: MemberRecord): MemberInfo {
  return { id: t.id(m), address: t.address(m), incarnation: t.incarnation(m), state: t.state(m), meta: t.meta(m), stateChangedAtMs: t.changedAtMs(m) }
}

function sameMeta (a: Metadata, b: Metadata): boolean {
  if (a === b) return true
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  for (const k of ka) if (a[k] !== b[k]) return false
  return true
}
