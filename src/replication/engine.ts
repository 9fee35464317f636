/**
 * The replication engine of one peer: its namespaces, the namespace catalog, and the parts that carry
 * out the protocol (coordinator, replica service, background replication and hints, rebalancing,
 * anti-entropy, fetch leases), behind one object the Peer drives.
 *
 * Inputs: client operations (`get`, `set`, `delete`, `incr`, `scan`, `fetch`), request items from other
 * peers (`handleItem`), ring views (`setRing`) and time (its own timers on the injected clock). Outputs:
 * calls through the injected `call`, answers to callbacks. The engine never learns how messages travel.
 *
 * Catalog: a declaration is stamped with this peer's HLC and pushed to every peer of the ring; the
 * catalog is exchanged with a random peer every `catalogSyncIntervalMs`, pushed to a peer that answered
 * `unknown-namespace`, and merged on every exchange (catalog.ts: the earliest declaration of a name wins
 * a conflict everywhere). A definition received from the network is validated like a local one; one
 * that does not validate (say, a mode this build does not know) is refused, counted and logged once.
 */
import { logOnce, type Logger } from '../env/logger.js'
import type { Clock, TimerHandle } from '../env/clock.js'
import type { Random } from '../env/random.js'
import { InvalidOptionError, type MeshcacheError } from '../errors.js'
import { createHashRing, type HashRing } from '../ring/hash-ring.js'
import type { Hlc } from '../storage/hlc.js'
import type { StoreEntry, StoreStats } from '../storage/store.js'
import type { ReplyItem, RequestItem, WireCatalogEntry } from '../wire/replication.js'
import { AntiEntropy } from './anti-entropy.js'
import { HintReplayer, replicateInBackground } from './background.js'
import { OpTracker } from './calls.js'
import { NamespaceCatalog, type CatalogChange, type CatalogEntry } from './catalog.js'
import { zeroCounters, type CallCallback, type CallOptions, type CounterName, type ReplicationConfig, type ReplicationContext } from './context.js'
import { coordinateIncr, coordinateRead, coordinateWrite, serveClientItem, type IncrResult, type WriteResult } from './coordinator.js'
import { coordinateFetch, FetchFlights, serveFetch, serveFill, type FetchHost, type FetchOptions, type FetchResult, type Loader } from './fetch.js'
import { PeerStoppedError } from './errors.js'
import { HintQueue } from './hints.js'
import { describeNamespace, resolveNamespace, type NamespaceDefinition, type NamespaceInit, type ReadMode } from './namespace.js'
import { Rebalancer } from './rebalancer.js'
import { NamespaceReplica } from './replica.js'
import { serveReplicaItem, type Respond } from './replica-service.js'
import { coordinateScan, type MeshScanResult, type ScanRequest } from './scan.js'

export interface ReplicationEngineInit {
  self: string
  config: ReplicationConfig
  clock: Clock
  random: Random
  logger: Logger
  hlc: Hlc
  /** The network: a request item to a peer id, one callback (never synchronous). */
  call: (peer: string, item: RequestItem, cb: CallCallback, options?: CallOptions) => void
  /** Alive or suspect in the membership view. */
  isLive: (peer: string) => boolean
  /** Seed of the stores' key hash (from the peer's seeded randomness). */
  hashSeed: number
  /** Most namespaces in the catalog. @default 256 */
  maxNamespaces?: number
}

export interface EngineStats {
  counters: Record<CounterName, number>
  hints: { count: number, bytes: number, stored: number, replaced: number, delivered: number, expired: number, droppedFull: number, refused: number }
  rebalancing: { transfersQueued: number, transfersRunning: number, pendingHandoffs: number, incomingArcs: number }
  operationsInFlight: number
  namespaces: Record<string, StoreStats>
}

export class ReplicationEngine implements FetchHost {
  readonly ctx: ReplicationContext
  readonly ops = new OpTracker()
  readonly hints: HintQueue
  readonly flights = new FetchFlights()
  readonly catalog: NamespaceCatalog
  readonly rebalancer: Rebalancer
  readonly antiEntropy: AntiEntropy
  readonly #replayer: HintReplayer
  readonly #namespaces = new Map<string, NamespaceReplica>()
  readonly #hashSeed: number
  readonly #timers = new Set<TimerHandle>()
  readonly #listeners = new Set<(change: CatalogChange) => void>()
  #ring: HashRing
  #stopped = false
  #started = false

  constructor (init: ReplicationEngineInit) {
    const counters = zeroCounters()
    const warnOnce = logOnce(init.logger)
    const isStopped = (): boolean => this.#stopped
    const currentRing = (): HashRing => this.#ring
    this.ctx = {
      self: init.self,
      config: init.config,
      clock: init.clock,
      random: init.random,
      logger: init.logger,
      warnOnce,
      hlc: init.hlc,
      counters,
      ring: currentRing,
      isLive: init.isLive,
      call: init.call,
      get stopped () { return isStopped() }
    }
    this.#hashSeed = init.hashSeed
    this.#ring = createHashRing({ peers: [init.self] })
    this.hints = new HintQueue({ maxHints: init.config.maxHints, maxBytes: init.config.maxHintBytes, ttlMs: init.config.hintTtlMs })
    this.catalog = new NamespaceCatalog(init.maxNamespaces)
    this.rebalancer = new Rebalancer(this)
    this.antiEntropy = new AntiEntropy(this)
    this.#replayer = new HintReplayer(this)
  }

  get stopped (): boolean { return this.#stopped }

  namespace (name: string): NamespaceReplica | undefined { return this.#namespaces.get(name) }

  namespaces (): NamespaceReplica[] { return [...this.#namespaces.values()] }

  /** The namespace definitions this peer knows. */
  definitions (): NamespaceDefinition[] { return this.catalog.entries().map((e) => e.definition) }

  /** Calls `fn` for every catalog change merged from the network (added, replaced, conflicts). */
  onCatalogChange (fn: (change: CatalogChange) => void): () => void {
    this.#listeners.add(fn)
    return () => { this.#listeners.delete(fn) }
  }

  // ------------------------------------------------------------------------------------ lifecycle

  start (): void {
    if (this.#started || this.#stopped) return
    this.#started = true
    const c = this.ctx.config
    this.#every(c.maintenanceIntervalMs, () => {
      for (const ns of this.#namespaces.values()) ns.store.sweep(256)
    })
    this.#every(c.hintReplayIntervalMs, () => this.#replayer.round())
    if (c.antiEntropyIntervalMs > 0) this.#every(c.antiEntropyIntervalMs, () => this.antiEntropy.round(this.namespaces()), true)
    if (c.catalogSyncIntervalMs > 0) this.#every(c.catalogSyncIntervalMs, () => this.#syncCatalog(), true)
  }

  /** Stops: every operation in flight ends with PeerStoppedError, timers stop, hints are dropped. */
  stop (): void {
    if (this.#stopped) return
    this.#stopped = true
    for (const t of this.#timers) this.ctx.clock.clearTimer(t)
    this.#timers.clear()
    this.rebalancer.stop()
    this.ops.stopAll()
    for (const ns of this.#namespaces.values()) for (const w of ns.leases.clear()) w({ kind: 'wait-timeout' })
    this.hints.clear()
  }

  /** Runs `fn` every `intervalMs` (jittered ±25 % when `jitter`, from the seeded random). */
  #every (intervalMs: number, fn: () => void, jitter = false): void {
    const arm = (): void => {
      if (this.#stopped) return
      const delay = jitter ? Math.round(intervalMs * (0.75 + this.ctx.random.next() * 0.5)) : intervalMs
      const handle = this.ctx.clock.setTimer(delay, () => {
        this.#timers.delete(handle)
        if (this.#stopped) return
        fn()
        arm()
      })
      this.#timers.add(handle)
    }
    arm()
  }

  // ------------------------------------------------------------------------------------ views

  get ring (): HashRing { return this.#ring }

  /** A new ring view: each namespace takes it and rebalances. */
  setRing (ring: HashRing): void {
    if (ring === this.#ring) return
    this.#ring = ring
    for (const ns of this.#namespaces.values()) this.#setNamespaceRing(ns, ring)
  }

  #setNamespaceRing (ns: NamespaceReplica, ring: HashRing): void {
    const before = ns.ring
    ns.setRing(ring)
    if (!this.#stopped) this.rebalancer.ringChanged(ns, before, ring)
  }

  // ------------------------------------------------------------------------------------ namespaces

  /** Declares a namespace here and pushes the definition to the mesh. Throws on a bad or conflicting definition. */
  declare (init: NamespaceInit): NamespaceDefinition {
    const def = resolveNamespace(init)
    const { entry, added } = this.catalog.declare(def, this.ctx.hlc.now(), this.ctx.self)
    if (added) {
      this.#open(entry.definition)
      this.#broadcastCatalog()
    }
    return entry.definition
  }

  #open (def: NamespaceDefinition): NamespaceReplica {
    const ns = new NamespaceReplica(def, this.ctx, this.#hashSeed)
    this.#namespaces.set(def.name, ns)
    this.#setNamespaceRing(ns, this.#ring)
    return ns
  }

  /** Merges catalog entries received from the network. */
  mergeCatalog (entries: readonly WireCatalogEntry[]): void {
    const valid: CatalogEntry[] = []
    for (const e of entries) {
      try {
        const def = resolveNamespace(e.definition, { allowReserved: true })
        valid.push({ definition: def, declaredAt: e.declaredAt, origin: e.origin })
      } catch (err) {
        this.ctx.counters.namespacesRefused++
        this.ctx.warnOnce(`ns-refused:${e.definition.name}`, 'refused a namespace definition from the mesh', { ns: e.definition.name, origin: e.origin, error: (err as Error).message })
      }
    }
    for (const change of this.catalog.merge(valid)) {
      switch (change.kind) {
        case 'added': this.#open(change.entry.definition); break
        case 'replaced': {
          this.ctx.counters.namespaceConflicts++
          this.ctx.logger.warn('a namespace was declared twice with different definitions; the earlier declaration wins everywhere', {
            ns: change.entry.definition.name, kept: describeNamespace(change.entry.definition), dropped: describeNamespace(change.previous.definition)
          })
          this.#replace(change.entry.definition)
          break
        }
        case 'conflict-kept':
          this.ctx.counters.namespaceConflicts++
          this.ctx.warnOnce(`ns-conflict:${change.entry.definition.name}`, 'a peer declared a namespace differently; the earlier declaration is kept', {
            ns: change.entry.definition.name, kept: describeNamespace(change.entry.definition), refused: describeNamespace(change.refused.definition), from: change.refused.origin
          })
          break
        case 'refused-full':
          this.ctx.counters.namespacesRefused++
          this.ctx.warnOnce('ns-full', 'the namespace catalog is full; a namespace from the mesh was refused', { ns: change.refused.definition.name })
          break
      }
      for (const fn of this.#listeners) fn(change)
    }
  }

  /** Reopens a namespace under a new definition, moving its entries into the new store. */
  #replace (def: NamespaceDefinition): void {
    const old = this.#namespaces.get(def.name)
    const ns = this.#open(def)
    if (old === undefined) return
    for (const e of old.store.entries()) {
      try { ns.applyEntry(e) } catch { /* over the new limits: dropped */ }
    }
    for (const w of old.leases.clear()) w({ kind: 'wait-timeout' })
  }

  #catalogItem (): Extract<RequestItem, { type: 'catalog' }> {
    return { type: 'catalog', entries: this.catalog.entries().map((e) => ({ definition: { ...e.definition }, declaredAt: e.declaredAt, origin: e.origin })) }
  }

  /** Sends our catalog to `peer` and merges its answer. */
  pushCatalog (peer: string, done: () => void): void {
    this.ctx.counters.catalogExchanges++
    this.ctx.call(peer, this.#catalogItem(), (err, reply) => {
      if (err === null && reply?.type === 'catalog') this.mergeCatalog(reply.entries)
      done()
    })
  }

  #broadcastCatalog (): void {
    for (const peer of this.#ring.peers()) if (peer !== this.ctx.self) this.pushCatalog(peer, () => {})
  }

  #syncCatalog (): void {
    const peers = this.#ring.peers().filter((p) => p !== this.ctx.self)
    const peer = this.ctx.random.pick(peers)
    if (peer !== undefined) this.pushCatalog(peer, () => {})
  }

  /** A member joined: give it our catalog (it may not know our namespaces yet). */
  memberJoined (peer: string): void {
    if (!this.#stopped && peer !== this.ctx.self) this.pushCatalog(peer, () => {})
  }

  // ------------------------------------------------------------------------------------ inbound

  /** A request item from another peer; `respond` exactly once. Never throws for bad input. */
  handleItem (from: string, item: RequestItem, respond: Respond): void {
    if (this.#stopped) { respond({ type: 'status', status: 'stopped' }); return }
    try {
      switch (item.type) {
        case 'read':
        case 'write':
        case 'range-pull':
        case 'ae-roots':
        case 'ae-sync':
        case 'scan':
          serveReplicaItem(this, from, item, respond); break
        case 'client': serveClientItem(this, item, respond); break
        case 'fetch': serveFetch(this, from, item, respond); break
        case 'fill': serveFill(this, item, respond); break
        case 'catalog':
          this.ctx.counters.catalogExchanges++
          this.mergeCatalog(item.entries)
          respond(this.#catalogItem() as ReplyItem)
          break
      }
    } catch (err) {
      // a broken invariant in our own code: answer, count, log; the peer keeps serving
      this.ctx.counters.badItems++
      this.ctx.warnOnce(`item:${item.type}`, 'serving a request item failed', { type: item.type, error: String(err) })
      const e = err as MeshcacheError
      respond({ type: 'error', code: typeof e.code === 'string' ? e.code : 'ERR_INTERNAL', message: String(e.message ?? err) })
    }
  }

  orphanAccepted (ns: NamespaceReplica): void {
    this.rebalancer.scheduleHandoff(ns, this.ctx.config.handoffDelayMs)
  }

  replicateInBackground (ns: NamespaceReplica, entry: StoreEntry, targets: readonly string[]): void {
    replicateInBackground(this, ns, entry, targets)
  }

  // ------------------------------------------------------------------------------------ client API

  #refuseIfStopped (done: (err: MeshcacheError) => void): boolean {
    if (!this.#stopped) return false
    this.ctx.clock.setTimer(0, () => done(new PeerStoppedError()))
    return true
  }

  get (ns: string, key: string, mode: ReadMode | undefined, done: (err: MeshcacheError | null, entry?: StoreEntry) => void): void {
    if (this.#refuseIfStopped(done)) return
    const def = this.#namespaces.get(ns)?.def
    coordinateRead(this, ns, key, mode ?? def?.readMode ?? 'primary', done)
  }

  set (ns: string, key: string, value: Uint8Array, ttlMs: number, done: (err: MeshcacheError | null, r?: WriteResult) => void): void {
    if (this.#refuseIfStopped(done)) return
    if (!(value instanceof Uint8Array)) { done(new InvalidOptionError('set: the value must be a Uint8Array (or go through a namespace codec)')); return }
    coordinateWrite(this, ns, key, value, ttlMs, done)
  }

  delete (ns: string, key: string, done: (err: MeshcacheError | null, r?: WriteResult) => void): void {
    if (this.#refuseIfStopped(done)) return
    coordinateWrite(this, ns, key, null, 0, done)
  }

  incr (ns: string, key: string, delta: number, done: (err: MeshcacheError | null, r?: IncrResult) => void): void {
    if (this.#refuseIfStopped(done)) return
    coordinateIncr(this, ns, key, delta, done)
  }

  scan (ns: string, req: ScanRequest, done: (err: MeshcacheError | null, r?: MeshScanResult) => void): void {
    if (this.#refuseIfStopped(done)) return
    coordinateScan(this, ns, req, done)
  }

  fetch (ns: string, key: string, options: FetchOptions, load: Loader, done: (err: unknown, r?: FetchResult) => void): void {
    if (this.#refuseIfStopped(done)) return
    coordinateFetch(this, ns, key, options, load, done)
  }

  // ------------------------------------------------------------------------------------ stats

  stats (): EngineStats {
    const namespaces: Record<string, StoreStats> = {}
    let incoming = 0
    for (const [name, ns] of this.#namespaces) { namespaces[name] = ns.store.stats(); incoming += ns.incomingArcs }
    return {
      counters: { ...this.ctx.counters },
      hints: { count: this.hints.count, bytes: this.hints.bytes, ...this.hints.counters },
      rebalancing: { transfersQueued: this.rebalancer.transfersQueued, transfersRunning: this.rebalancer.transfersRunning, pendingHandoffs: this.rebalancer.pendingHandoffs, incomingArcs: incoming },
      operationsInFlight: this.ops.size,
      namespaces
    }
  }
}
