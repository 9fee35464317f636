/**
 * The Peer: one member of a meshcache mesh. A thin driver (DESIGN.md "the Peer is a thin driver"): it
 * wires the membership node (SWIM + Lifeguard), the ring view and the replication engine to one
 * Transport and one Clock, and routes every inbound frame to its family's handler. No protocol decision
 * is made here.
 *
 * - Inbound datagrams are membership's; inbound requests go to membership (0x10–0x2f) or to the batching
 *   RPC server of the replication engine (0x30–0x4f); anything else is refused, counted, logged once.
 * - The ring is built from the members that are alive or suspect (a suspect may be alive: moving its keys
 *   away on every suspicion would churn), shared through a RingCache, and updated once per turn however
 *   many membership events the turn brought (a join's push-pull brings every member at once).
 * - `leave()`: the ring without this peer becomes its view (so it refuses new writes with `not-owner`
 *   and coordinators re-route), every key is handed off to its new replicas and confirmed, then the
 *   membership announces the leave; bounded by `leaveTimeoutMs`.
 */
import type { Clock, TimerHandle } from '../env/clock.js'
import { logOnce, silentLogger, type Logger } from '../env/logger.js'
import type { Random } from '../env/random.js'
import { InvalidOptionError } from '../errors.js'
import type { MembershipPreset, SwimOptions } from '../membership/config.js'
import type { MemberEvent, MemberInfo } from '../membership/types.js'
import { createRingCache, type RingCache } from '../ring/ring-cache.js'
import type { HashRing } from '../ring/hash-ring.js'
import { resolveReplicationConfig, type ReplicationOptions } from '../replication/context.js'
import { ReplicationEngine, type EngineStats } from '../replication/engine.js'
import { resolveNamespace, type NamespaceDefinition, type NamespaceInit } from '../replication/namespace.js'
import { Hlc } from '../storage/hlc.js'
import type { Address, Transport } from '../transport/transport.js'
import { isMembershipFrame } from '../wire/membership.js'
import { isReplicationFrame } from '../wire/replication.js'
import { bytesCodec, type ValueCodec } from './codecs.js'
import { MembershipNode, type JoinResult, type MembershipCounters } from './membership-node.js'
import { Namespace } from './namespace-handle.js'
import { BatchingRpc, type RpcCounters } from './rpc.js'

export interface PeerInit extends ReplicationOptions {
  /** Where messages go and come from (the simulator's host transport; libp2p in a later release). */
  transport: Transport
  /** Time and timers. */
  clock: Clock
  /** Seeded randomness; the peer forks 'swim', 'replication' and 'hash' from it. */
  random: Random
  /** @default silentLogger */
  logger?: Logger
  /** This peer's id, unique in the mesh. @default transport.address */
  id?: string
  /** Membership timing preset. @default 'lan' */
  preset?: MembershipPreset
  /** Membership knobs (see MembershipNode); the preset gives the rest. */
  membership?: SwimOptions
  /** Namespaces declared at start (the mesh learns them). @default [] */
  namespaces?: NamespaceInit[]
  /** Declare the namespace `default` (async, 3 replicas) at start. @default true */
  defaultNamespace?: boolean
  /** Virtual nodes per peer on the ring (all peers of a mesh must agree). @default 256 */
  vnodes?: number
  /** Bounded-load factor of the ring (all peers of a mesh must agree). @default 1.15 */
  loadFactor?: number
  /** A ring cache shared by the peers of one process (simulations); its vnodes/loadFactor win. @default a cache of this peer's own */
  ringCache?: RingCache
  /** Items per batched request at most. @default 256 */
  maxBatchItems?: number
  /** Bytes per batched request at most. @default 1 MiB */
  maxBatchBytes?: number
  /** Batched requests outstanding per destination at most. @default 4 */
  maxInFlightBatchesPerPeer?: number
  /** Requests waiting per destination at most; more are refused with OverloadedError. @default 10000 */
  maxQueuedRequestsPerPeer?: number
  /** How long `leave()` waits for its hand-off to be confirmed before it leaves anyway, in ms. @default 10000 */
  leaveTimeoutMs?: number
  /** While this peer knows no other live member, how often it tries its seeds again, in ms; 0: never. @default 2000 */
  rejoinIntervalMs?: number
}

export interface PeerStats {
  id: string
  members: { alive: number, suspect: number, dead: number, left: number }
  ringPeers: number
  ringChecksum: string
  replication: EngineStats
  rpc: RpcCounters
  membership: MembershipCounters
  /** Inbound requests of no known family, refused. */
  unknownFrames: number
  /** Times this peer, alone, tried its seeds again. */
  rejoins: number
}

const PEER_KEYS = new Set(['transport', 'clock', 'random', 'logger', 'id', 'preset', 'membership', 'namespaces', 'defaultNamespace', 'vnodes',
  'loadFactor', 'ringCache', 'maxBatchItems', 'maxBatchBytes', 'maxInFlightBatchesPerPeer', 'maxQueuedRequestsPerPeer', 'leaveTimeoutMs', 'rejoinIntervalMs'])

export function createPeer (init: PeerInit): Peer {
  return new Peer(init)
}

export class Peer {
  readonly id: string
  readonly address: Address
  readonly membership: MembershipNode
  readonly engine: ReplicationEngine
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #warnOnce: (key: string, msg: string, fields?: Record<string, unknown>) => void
  readonly #rpc: BatchingRpc
  readonly #rings: RingCache
  readonly #leaveTimeoutMs: number
  readonly #namespaceInits: NamespaceInit[]
  readonly #defaultNamespace: boolean
  #ring: HashRing
  #ringTimer: TimerHandle | undefined
  #leaving = false
  #started = false
  #stopped = false
  #unknownFrames = 0
  #seeds: Address[] = []
  #rejoinTimer: TimerHandle | undefined
  #rejoins = 0
  readonly #rejoinIntervalMs: number

  constructor (init: PeerInit) {
    if (init === null || typeof init !== 'object') throw new InvalidOptionError('createPeer needs an init object: { transport, clock, random, ... }')
    const { transport, clock, random } = init
    if (transport === undefined || typeof transport.request !== 'function') throw new InvalidOptionError('transport must be a Transport (src/transport/transport.ts)')
    if (clock === undefined || typeof clock.setTimer !== 'function') throw new InvalidOptionError('clock must be a Clock (src/env/clock.ts), e.g. systemClock or a simulator host clock')
    if (random === undefined || typeof random.fork !== 'function') throw new InvalidOptionError('random must be a Random (src/env/random.ts), e.g. new SeededRandom(seed)')
    const replicationOptions: ReplicationOptions = {}
    for (const [k, v] of Object.entries(init)) {
      if (PEER_KEYS.has(k)) continue
      ;(replicationOptions as Record<string, unknown>)[k] = v
    }
    const config = resolveReplicationConfig(replicationOptions)
    const leaveTimeoutMs = init.leaveTimeoutMs ?? 10_000
    if (!Number.isSafeInteger(leaveTimeoutMs) || leaveTimeoutMs < 0) throw new InvalidOptionError(`leaveTimeoutMs must be a whole number of ms >= 0, got ${String(init.leaveTimeoutMs)}`)
    if (init.namespaces !== undefined && !Array.isArray(init.namespaces)) throw new InvalidOptionError('namespaces must be an array of { name, replication, replicas, ... }')
    this.#leaveTimeoutMs = leaveTimeoutMs
    const rejoin = init.rejoinIntervalMs ?? 2000
    if (!Number.isSafeInteger(rejoin) || rejoin < 0) throw new InvalidOptionError(`rejoinIntervalMs must be a whole number of ms >= 0 (0: never), got ${String(init.rejoinIntervalMs)}`)
    this.#rejoinIntervalMs = rejoin
    this.#clock = clock
    this.address = transport.address
    this.id = init.id ?? transport.address
    this.#logger = (init.logger ?? silentLogger).child({ peer: this.id })
    this.#warnOnce = logOnce(this.#logger)
    this.#rings = init.ringCache ?? createRingCache({ vnodes: init.vnodes, loadFactor: init.loadFactor })
    this.#ring = this.#rings.ring([this.id])
    this.membership = new MembershipNode({
      ...init.membership,
      transport,
      clock,
      random,
      logger: this.#logger,
      id: this.id,
      preset: init.preset,
      attachTransport: false
    })
    this.#rpc = new BatchingRpc({
      transport,
      clock,
      logger: this.#logger.child({ component: 'rpc' }),
      requestTimeoutMs: config.requestTimeoutMs,
      slowRequestTimeoutMs: config.operationTimeoutMs,
      maxBatchItems: init.maxBatchItems,
      maxBatchBytes: init.maxBatchBytes,
      maxInFlightBatches: init.maxInFlightBatchesPerPeer,
      maxQueuedItems: init.maxQueuedRequestsPerPeer,
      addressOf: (peer) => this.membership.member(peer)?.address ?? peer
    })
    this.engine = new ReplicationEngine({
      self: this.id,
      config,
      clock,
      random: random.fork('replication'),
      logger: this.#logger.child({ component: 'replication' }),
      hlc: new Hlc(clock),
      call: (peer, item, cb, options) => this.#rpc.call(peer, item, cb, options),
      isLive: (peer) => {
        const m = this.membership.member(peer)
        return m !== undefined && (m.state === 'alive' || m.state === 'suspect')
      },
      hashSeed: random.fork('hash').uint32()
    })
    this.#namespaceInits = init.namespaces ?? []
    this.#defaultNamespace = init.defaultNamespace !== false
    // validate every declared namespace now, so a bad one fails construction with its message
    for (const ns of this.#namespaceInits) resolveNamespace(ns)
    this.membership.onEvent((e) => this.#onMemberEvent(e))
    transport.setHandlers({
      onMessage: (from, payload) => this.membership.handleMessage(from, payload),
      onRequest: (from, payload, respond) => this.#onRequest(from, payload, respond)
    })
  }

  get stopped (): boolean { return this.#stopped }
  get leaving (): boolean { return this.#leaving }

  /** The ring this peer routes with. */
  get ring (): HashRing { return this.#ring }

  // ------------------------------------------------------------------------------------ lifecycle

  /** Starts membership and the replication timers, declares the configured namespaces. Idempotent. */
  start (): void {
    if (this.#started || this.#stopped) return
    this.#started = true
    if (this.#defaultNamespace) this.engine.declare({ name: 'default', replication: 'async', replicas: 3 })
    for (const ns of this.#namespaceInits) this.engine.declare(ns)
    this.membership.start()
    this.engine.start()
  }

  /** Joins the mesh through seed addresses; starts the peer if needed. Never rejects. */
  /**
   * Joins the mesh through seed addresses; starts the peer if needed. Never rejects: the result says
   * which seeds answered. While this peer knows no other live member (no seed answered, say during a
   * partition, or every member it knew died), it tries the seeds again every `rejoinIntervalMs`.
   */
  async join (seeds: readonly Address[]): Promise<JoinResult> {
    this.start()
    this.#seeds = [...new Set([...this.#seeds, ...seeds])]
    this.#armRejoin() // armed now, not after the await: under the simulator, continuations wait for the run to yield
    return await this.membership.join(seeds)
  }

  #armRejoin (): void {
    if (this.#rejoinTimer !== undefined || this.#stopped || this.#seeds.length === 0 || this.#rejoinIntervalMs === 0) return
    this.#rejoinTimer = this.#clock.setTimer(this.#rejoinIntervalMs, () => {
      this.#rejoinTimer = undefined
      if (this.#stopped || this.#leaving) return
      const alone = !this.membership.members().some((m) => m.id !== this.id && (m.state === 'alive' || m.state === 'suspect'))
      if (alone) {
        this.#rejoins++
        void this.membership.join(this.#seeds)
      }
      this.#armRejoin()
    })
  }

  /**
   * Leaves gracefully: hands every key off to its new replicas (confirmed, up to `leaveTimeoutMs`), then
   * announces the leave, lingers `leaveLingerMs` answering probes, and stops. Driven by the peer's clock
   * (no promise continuation inside), so it runs the same in virtual time.
   */
  leave (): Promise<{ handedOff: boolean }> {
    return new Promise((resolve) => this.leaveThen(resolve))
  }

  /** `leave()` in callback form (for simulations: `done` runs in the clock's own turn). */
  leaveThen (done: (r: { handedOff: boolean }) => void): void {
    if (this.#stopped) { this.#clock.setTimer(0, () => done({ handedOff: true })); return }
    this.#leaving = true
    this.#updateRing()
    const deadline = this.#clock.now() + this.#leaveTimeoutMs
    const attempt = (): void => {
      if (this.#stopped) { done({ handedOff: false }); return }
      this.#handoffAll((remaining) => {
        if (remaining === 0) { announce(true); return }
        if (this.#clock.now() >= deadline) { announce(false); return }
        this.#clock.setTimer(this.engine.ctx.config.handoffRetryMs, attempt)
      })
    }
    const announce = (handedOff: boolean): void => {
      if (!handedOff) this.#logger.warn('left before every key was handed off (leaveTimeoutMs passed); anti-entropy and the other replicas cover what is missing', { peer: this.id })
      void this.membership.leave()
      this.#clock.setTimer(this.membership.config.leaveLingerMs + 1, () => {
        this.stop()
        done({ handedOff })
      })
    }
    attempt()
  }

  #handoffAll (done: (remaining: number) => void): void {
    const namespaces = this.engine.namespaces()
    if (namespaces.length === 0) { done(0); return }
    let left = namespaces.length
    let remaining = 0
    for (const ns of namespaces) {
      this.engine.rebalancer.handoffNow(ns, (r) => {
        remaining += r
        if (--left === 0) done(remaining)
      })
    }
  }

  /** Stops at once: operations in flight fail with PeerStoppedError, timers stop. The transport stays open. */
  stop (): void {
    if (this.#stopped) return
    this.#stopped = true
    if (this.#ringTimer !== undefined) this.#clock.clearTimer(this.#ringTimer)
    if (this.#rejoinTimer !== undefined) this.#clock.clearTimer(this.#rejoinTimer)
    this.engine.stop()
    this.#rpc.close()
    this.membership.stop()
  }

  // ------------------------------------------------------------------------------------ API

  /** The client API of a namespace (declared here or anywhere in the mesh). */
  namespace<T = Uint8Array> (name: string, options: { codec?: ValueCodec<T> } = {}): Namespace<T> {
    if (typeof name !== 'string' || name.length === 0) throw new InvalidOptionError('a namespace name must be a non-empty string')
    return new Namespace<T>(this.engine, name, options.codec ?? (bytesCodec as unknown as ValueCodec<T>))
  }

  /**
   * Declares a namespace at runtime; the definition spreads to the mesh. Declaring the same definition
   * again is a no-op; a different one throws NamespaceConflictError.
   */
  declareNamespace (init: NamespaceInit): NamespaceDefinition {
    if (!this.#started) this.start()
    return this.engine.declare(init)
  }

  /** The namespaces this peer knows. */
  namespaces (): NamespaceDefinition[] { return this.engine.definitions() }

  /** Every member this peer knows (dead and left included). */
  members (): MemberInfo[] { return this.membership.members() }

  stats (): PeerStats {
    const members = { alive: 0, suspect: 0, dead: 0, left: 0 }
    for (const m of this.membership.members()) members[m.state]++
    return {
      id: this.id,
      members,
      ringPeers: this.#ring.size,
      ringChecksum: this.#ring.checksum(),
      replication: this.engine.stats(),
      rpc: { ...this.#rpc.counters, failures: { ...this.#rpc.counters.failures }, malformed: { ...this.#rpc.counters.malformed } },
      membership: this.membership.counters(),
      unknownFrames: this.#unknownFrames,
      rejoins: this.#rejoins
    }
  }

  // ------------------------------------------------------------------------------------ internals

  #onRequest (from: Address, payload: Uint8Array, respond: (reply: Uint8Array) => void): void {
    if (this.#stopped) return
    if (isReplicationFrame(payload)) {
      const fromId = this.#idOf(from)
      this.#rpc.serve(from, payload, (item, answer) => this.engine.handleItem(fromId, item, answer), respond)
      return
    }
    if (payload.byteLength < 2 || isMembershipFrame(payload) || payload[0] !== 1) {
      this.membership.handleRequest(from, payload, respond)
      return
    }
    this.#unknownFrames++
    this.#warnOnce(`frame:${from}`, 'refused a request of no known message family', { from, type: payload[1] })
  }

  #idOf (address: Address): string {
    if (this.membership.member(address) !== undefined) return address
    for (const m of this.membership.members()) if (m.address === address) return m.id
    return address
  }

  #onMemberEvent (e: MemberEvent): void {
    if (e.type === 'joined') this.engine.memberJoined(e.member.id)
    if (e.type === 'joined' || e.type === 'dead' || e.type === 'left' || e.type === 'reaped' || e.type === 'alive') this.#scheduleRing()
  }

  /** Recomputes the ring once per turn, after every membership event of the turn. */
  #scheduleRing (): void {
    if (this.#ringTimer !== undefined || this.#stopped) return
    this.#ringTimer = this.#clock.setTimer(0, () => {
      this.#ringTimer = undefined
      this.#updateRing()
    })
  }

  #updateRing (): void {
    if (this.#stopped) return
    const ids: string[] = []
    for (const m of this.membership.members()) {
      if (m.state !== 'alive' && m.state !== 'suspect') continue
      if (this.#leaving && m.id === this.id) continue
      ids.push(m.id)
    }
    if (!this.#leaving && !ids.includes(this.id)) ids.push(this.id)
    const ring = this.#rings.ring(ids)
    if (ring === this.#ring) return
    this.#ring = ring
    this.engine.setRing(ring)
  }
}
