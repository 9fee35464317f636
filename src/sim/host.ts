/**
 * A simulated host: the machine a process runs on. It outlives its processes (crash and restart replace
 * the process, not the host), so it holds what a machine has: its address, its clock skew, its place in
 * the network (partition group, bridge, blocked links, per-link settings) and traffic counters.
 *
 * `epoch` counts process lifetimes: every event scheduled for the host carries the epoch it was scheduled
 * in, and an event from an older epoch is void. That is how a crash makes the old process's timers and
 * in-flight inbound messages vanish in O(1), without searching the event queue.
 */
import type { Address } from '../transport/transport.js'
import type { SimEvent } from './event-queue.js'
import type { LinkOptions } from './network.js'
import type { SimTransport } from './sim-transport.js'

/** What a process running on a simulated host is; `stop()` is called on crash and at shutdown. */
export interface HostProcess { stop(): void }

/** Per-host traffic counters (best-effort messages and reliable requests). */
export interface HostStats {
  sentMessages: number
  sentBytes: number
  receivedMessages: number
  receivedBytes: number
  /** Best-effort messages that arrived while paused and did not fit the paused inbox. */
  inboxOverflow: number
  sentRequests: number
  receivedRequests: number
}

export class SimHost {
  readonly address: Address
  /** Ordinal in the order hosts were added (stable across restarts). */
  readonly index: number
  epoch = 0
  up = false
  restarts = 0
  process: HostProcess | null = null
  transport: SimTransport | null = null
  skewMs = 0
  paused = false
  pausedUntil = 0
  /** Events that fell due while paused, in due order; run when the pause ends. */
  backlog: SimEvent[] = []
  /** How many of `backlog` are best-effort messages (bounded by the paused inbox limit). */
  backlogMessages = 0
  /** Partition group (0 = the default group everyone is in when there is no partition). */
  group = 0
  /** A bridge reaches, and is reached from, every partition group. */
  bridge = false
  /** Destinations this host cannot send to (asymmetric blocks). */
  blockedTo: Set<SimHost> | null = null
  /** Per-destination link settings overriding the network defaults. */
  links: Map<SimHost, LinkOptions> | null = null
  readonly stats: HostStats = {
    sentMessages: 0,
    sentBytes: 0,
    receivedMessages: 0,
    receivedBytes: 0,
    inboxOverflow: 0,
    sentRequests: 0,
    receivedRequests: 0
  }

  constructor (address: Address, index: number) {
    this.address = address
    this.index = index
  }
}
