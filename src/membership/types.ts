/**
 * Public types of the membership core: member snapshots, change events with reasons, the effects the
 * core asks its driver to carry out, and its counters.
 */
import type { Address } from '../transport/transport.js'
import type { MemberState, Metadata, OutgoingDatagram, PushPullRequest } from '../wire/membership.js'

export type { MemberState, Metadata }

/** What one peer knows about one member. */
export interface MemberInfo {
  readonly id: string
  readonly address: Address
  readonly incarnation: number
  readonly state: MemberState
  readonly meta: Metadata
  /** When this peer saw the current state begin (its own clock), in ms. */
  readonly stateChangedAtMs: number
}

export type MemberEventType = 'joined' | 'suspect' | 'alive' | 'refuted' | 'dead' | 'left' | 'updated' | 'reaped'

/**
 * Why a change happened:
 * - joined: `new-member` (first heard of), `rejoined` (was dead or left, back under a higher incarnation)
 * - suspect: `probe-failed` (our own probe got no ack), `reported` (another member suspects it)
 * - alive: `refutation` (a suspect answered with a higher incarnation)
 * - refuted (about us): `suspected`, `declared-dead`, `declared-left`, `incarnation-conflict`
 * - dead: `suspect-timeout` (our suspicion timer expired), `reported` (another member declared it)
 * - left: `graceful-leave`
 * - updated: `metadata-changed`, `address-changed`
 * - reaped: `tombstone-expired`
 */
export type MemberEventReason =
  | 'new-member' | 'rejoined'
  | 'probe-failed' | 'reported'
  | 'refutation'
  | 'suspected' | 'declared-dead' | 'declared-left' | 'incarnation-conflict'
  | 'suspect-timeout'
  | 'graceful-leave'
  | 'metadata-changed' | 'address-changed'
  | 'tombstone-expired'

/** How the information behind an event reached us. */
export type MemberEventVia = 'probe' | 'gossip' | 'push-pull' | 'timer' | 'local'

export interface MemberEvent {
  readonly type: MemberEventType
  readonly reason: MemberEventReason
  readonly member: MemberInfo
  /** The member's state before the change (undefined for a new member). */
  readonly previousState: MemberState | undefined
  readonly via: MemberEventVia
  /** The member whose report caused the change, when known (the accuser, the one that declared it dead). */
  readonly source?: string
  /** This peer's clock when the change happened, in ms. */
  readonly atMs: number
}

/** A reliable request the core wants sent: a push-pull exchange, or a fallback probe (a ping). */
export type OutgoingRequest = PushPullRequest | OutgoingDatagram

export type SwimEffect =
  | { readonly kind: 'send', readonly to: Address, readonly message: OutgoingDatagram }
  | { readonly kind: 'request', readonly to: Address, readonly requestId: number, readonly message: OutgoingRequest, readonly timeoutMs: number }
  | { readonly kind: 'event', readonly event: MemberEvent }

/** Lifeguard's local health, as seen from outside. */
export interface LocalHealth {
  /** 0 is healthy; at most `awarenessMaxMultiplier - 1`. */
  readonly score: number
  /** How many times probe interval and timeouts are stretched now (`score + 1`). */
  readonly multiplier: number
}

/** Protocol counters of the core (messages and bytes are counted by the driver). */
export interface SwimCounters {
  /** Probes started (one per protocol period). */
  probes: number
  /** Probes that ended without any ack. */
  probesFailed: number
  /** Ping-req messages sent. */
  indirectProbes: number
  /** Fallback probes over the reliable channel, and how many of them were answered. */
  fallbackProbes: number
  fallbackAcks: number
  /** Nacks received from relays. */
  nacksReceived: number
  /** Suspicions this peer raised from its own failed probes. */
  suspicionsRaised: number
  /** Independent confirmations added to suspicions. */
  confirmations: number
  /** Members this peer declared dead when its suspicion timer expired. */
  deadDeclared: number
  /** Times this peer raised its incarnation to refute a claim about itself. */
  refutations: number
  /** Updates dropped because the dissemination queue was full. */
  queueDrops: number
  /** Urgent gossip bursts sent. */
  gossipBursts: number
  /**
   * Push-pull exchanges started, answered, failed; started because a previous one found many changes;
   * started because a peer showed a stale view of us.
   */
  pushPulls: number
  pushPullsServed: number
  pushPullFailures: number
  pushPullCascades: number
  pushPullRepairs: number
  /** Dead members probed again. */
  deadProbes: number
  /** Timeouts acted on late (after a grace) because our own event loop had stalled. */
  lateTimerGraces: number
  /** Last probes of a member whose suspicion ran out, before declaring it dead (Lifeguard). */
  lastChanceProbes: number
  /** Pings addressed to another member id (e.g. a restarted peer at a reused address). */
  wrongTarget: number
  /** Acks or nacks for no pending probe (late, duplicated or forged). */
  unexpectedAcks: number
  /** Ping-reqs refused because too many relays were pending. */
  relaysRefused: number
  /** The largest event-loop lag reported by the driver, in ms. */
  maxLagMs: number
}
