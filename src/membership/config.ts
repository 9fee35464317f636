/**
 * Options of the membership protocol, with presets like memberlist's DefaultLANConfig /
 * DefaultLocalConfig / DefaultWANConfig. Every knob is optional, documented with its unit in its name
 * and its default per preset; an invalid value throws `InvalidOptionError` at construction, with a
 * message that says how to fix it.
 */
import { InvalidOptionError } from '../errors.js'
import { MEMBERSHIP_LIMITS } from '../wire/membership.js'

export type MembershipPreset = 'lan' | 'local' | 'wan'
export const MEMBERSHIP_PRESETS: readonly MembershipPreset[] = ['lan', 'local', 'wan']

export interface SwimOptions {
  /** Length of a protocol period: one member is probed per period, in ms. @default lan 1000, local 200, wan 5000 */
  probeIntervalMs?: number
  /** How long to wait for a direct ack before asking others to probe, in ms. Must be below `probeIntervalMs`. @default lan 500, local 100, wan 3000 */
  probeTimeoutMs?: number
  /** How many members relay an indirect probe (SWIM's k). @default lan 3, local 2, wan 3 */
  indirectChecks?: number
  /**
   * Also try a direct probe over the reliable request channel when the direct ack is missing (memberlist's
   * TCP fallback). Cheap (only failed probes use it) and it stops packet loss from causing suspicions.
   * @default true
   */
  reliableProbeFallback?: boolean
  /** Each update is retransmitted `retransmitMult * ceil(log10(n + 1))` times. @default lan 3, local 2, wan 3 */
  retransmitMult?: number
  /** Shortest suspicion timeout = `suspicionMult * max(1, log10(n)) * probeIntervalMs`. @default lan 2, local 3, wan 3 */
  suspicionMult?: number
  /**
   * With Lifeguard, the shortest a suspicion lasts whatever the mesh size, in ms: a member whose event
   * loop stalls (a GC pause, a blocked loop) for less than this still gets to refute. Plain SWIM uses
   * memberlist's fixed `suspicionMult * log10(n) * probeIntervalMs`. @default 6 * probeIntervalMs
   */
  suspicionFloorMs?: number
  /** Longest suspicion timeout (no confirmation yet) = `suspicionMaxMult * shortest` (Lifeguard's β). @default 6 */
  suspicionMaxMult?: number
  /** Independent confirmations that bring a suspicion down to its shortest timeout (Lifeguard's k). @default 3 */
  suspicionConfirmations?: number
  /** Local health score ceiling: timeouts stretch at most this many times (Lifeguard's S). @default 8 */
  awarenessMaxMultiplier?: number
  /** Event-loop lag at or above which our own health score rises and late timeouts get a grace, in ms. @default probeTimeoutMs / 4 */
  lagThresholdMs?: number
  /** Base interval of full-state push-pull with a random member, in ms (stretched above 32 members); 0 disables. @default lan 30000, local 10000, wan 60000 */
  pushPullIntervalMs?: number
  /** Timeout of a push-pull or join request, in ms. @default lan 10000, local 2000, wan 30000 */
  pushPullTimeoutMs?: number
  /** How often one random dead member is probed again (a healed partition merges back by itself), in ms; 0 disables. @default lan 10000, local 2000, wan 30000 */
  deadProbeIntervalMs?: number
  /** How long dead and left members are kept as tombstones before they are forgotten, in ms. @default lan 3600000, local 600000, wan 21600000 */
  tombstoneTimeoutMs?: number
  /** Members an urgent update (dead, left, our own refutation) is pushed to at once, besides piggybacking. @default 3 */
  gossipFanout?: number
  /** Minimum time between two urgent gossip bursts of this peer, in ms. @default probeIntervalMs / 2 */
  gossipIntervalMs?: number
  /** Updates waiting for retransmission; when full, the least useful one is dropped (and counted). @default 1024 */
  maxBroadcastQueueLength?: number
  /** How long a leaving member keeps answering probes after announcing its leave, in ms. @default probeIntervalMs */
  leaveLingerMs?: number
  /** Largest encoded metadata map, in bytes. @default 512 */
  maxMetadataBytes?: number
  /**
   * Lifeguard (local health multiplier, nacks, dynamic suspicion timeouts, buddy system, grace for late
   * timers). `false` gives plain SWIM with a fixed suspicion timeout, for comparison. @default true
   */
  lifeguard?: boolean
}

export type SwimConfig = Required<SwimOptions>

type PresetValues = Omit<SwimConfig, 'lagThresholdMs' | 'gossipIntervalMs' | 'leaveLingerMs' | 'suspicionFloorMs'>

const LAN: PresetValues = {
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  reliableProbeFallback: true,
  retransmitMult: 3,
  suspicionMult: 2,
  suspicionMaxMult: 6,
  suspicionConfirmations: 3,
  awarenessMaxMultiplier: 8,
  pushPullIntervalMs: 30_000,
  pushPullTimeoutMs: 10_000,
  deadProbeIntervalMs: 10_000,
  tombstoneTimeoutMs: 3_600_000,
  gossipFanout: 3,
  maxBroadcastQueueLength: 1024,
  maxMetadataBytes: 512,
  lifeguard: true
}

const PRESETS: Record<MembershipPreset, PresetValues> = {
  lan: LAN,
  local: {
    ...LAN,
    probeIntervalMs: 200,
    probeTimeoutMs: 100,
    indirectChecks: 2,
    retransmitMult: 2,
    suspicionMult: 3,
    pushPullIntervalMs: 10_000,
    pushPullTimeoutMs: 2_000,
    deadProbeIntervalMs: 2_000,
    tombstoneTimeoutMs: 600_000
  },
  wan: {
    ...LAN,
    probeIntervalMs: 5000,
    probeTimeoutMs: 3000,
    suspicionMult: 3,
    pushPullIntervalMs: 60_000,
    pushPullTimeoutMs: 30_000,
    deadProbeIntervalMs: 30_000,
    tombstoneTimeoutMs: 21_600_000,
    gossipFanout: 4
  }
}

/** The values a preset gives, with every derived default filled in. */
export function presetConfig (preset: MembershipPreset = 'lan'): SwimConfig {
  return resolveSwimConfig({}, preset)
}

function positiveInt (name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new InvalidOptionError(`${name} must be an integer >= ${min}, got ${String(v)}`)
  }
  return v
}

function positiveNumber (name: string, v: unknown, min: number, unit: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new InvalidOptionError(`${name} must be a finite number >= ${min}${unit}, got ${String(v)}`)
  }
  return v
}

/** Fills in defaults from the preset and checks every value; throws InvalidOptionError on a bad one. */
export function resolveSwimConfig (options: SwimOptions, preset: MembershipPreset = 'lan'): SwimConfig {
  if (!MEMBERSHIP_PRESETS.includes(preset)) {
    throw new InvalidOptionError(`preset must be one of ${MEMBERSHIP_PRESETS.join(', ')}, got ${String(preset)}`)
  }
  const base = PRESETS[preset]
  const pick = <K extends keyof SwimConfig>(k: K, fallback: SwimConfig[K]): SwimConfig[K] => options[k] === undefined ? fallback : options[k] as SwimConfig[K]
  const probeIntervalMs = positiveInt('probeIntervalMs', pick('probeIntervalMs', base.probeIntervalMs), 1)
  const probeTimeoutMs = positiveInt('probeTimeoutMs', pick('probeTimeoutMs', options.probeIntervalMs !== undefined && options.probeTimeoutMs === undefined
    ? Math.max(1, Math.floor(probeIntervalMs / 2))
    : base.probeTimeoutMs), 1)
  if (probeTimeoutMs >= probeIntervalMs) {
    throw new InvalidOptionError(`probeTimeoutMs (${probeTimeoutMs}) must be below probeIntervalMs (${probeIntervalMs}): indirect probes need the rest of the period; try probeTimeoutMs = probeIntervalMs / 2`)
  }
  const cfg: SwimConfig = {
    probeIntervalMs,
    probeTimeoutMs,
    indirectChecks: positiveInt('indirectChecks', pick('indirectChecks', base.indirectChecks), 0),
    reliableProbeFallback: pick('reliableProbeFallback', base.reliableProbeFallback),
    retransmitMult: positiveInt('retransmitMult', pick('retransmitMult', base.retransmitMult), 1),
    suspicionMult: positiveNumber('suspicionMult', pick('suspicionMult', base.suspicionMult), 0.5, ''),
    suspicionFloorMs: positiveInt('suspicionFloorMs', pick('suspicionFloorMs', 6 * probeIntervalMs), 0),
    suspicionMaxMult: positiveNumber('suspicionMaxMult', pick('suspicionMaxMult', base.suspicionMaxMult), 1, ''),
    suspicionConfirmations: positiveInt('suspicionConfirmations', pick('suspicionConfirmations', base.suspicionConfirmations), 0),
    awarenessMaxMultiplier: positiveInt('awarenessMaxMultiplier', pick('awarenessMaxMultiplier', base.awarenessMaxMultiplier), 1),
    lagThresholdMs: positiveNumber('lagThresholdMs', pick('lagThresholdMs', Math.max(1, Math.floor(probeTimeoutMs / 4))), 1, ' ms'),
    pushPullIntervalMs: positiveInt('pushPullIntervalMs', pick('pushPullIntervalMs', base.pushPullIntervalMs), 0),
    pushPullTimeoutMs: positiveInt('pushPullTimeoutMs', pick('pushPullTimeoutMs', base.pushPullTimeoutMs), 1),
    deadProbeIntervalMs: positiveInt('deadProbeIntervalMs', pick('deadProbeIntervalMs', base.deadProbeIntervalMs), 0),
    tombstoneTimeoutMs: positiveInt('tombstoneTimeoutMs', pick('tombstoneTimeoutMs', base.tombstoneTimeoutMs), 1),
    gossipFanout: positiveInt('gossipFanout', pick('gossipFanout', base.gossipFanout), 0),
    gossipIntervalMs: positiveInt('gossipIntervalMs', pick('gossipIntervalMs', Math.max(1, Math.floor(probeIntervalMs / 2))), 1),
    maxBroadcastQueueLength: positiveInt('maxBroadcastQueueLength', pick('maxBroadcastQueueLength', base.maxBroadcastQueueLength), 1),
    leaveLingerMs: positiveInt('leaveLingerMs', pick('leaveLingerMs', probeIntervalMs), 0),
    maxMetadataBytes: positiveInt('maxMetadataBytes', pick('maxMetadataBytes', base.maxMetadataBytes), 1),
    lifeguard: pick('lifeguard', base.lifeguard)
  }
  if (cfg.maxMetadataBytes > MEMBERSHIP_LIMITS.maxMetaBytes) {
    throw new InvalidOptionError(`maxMetadataBytes (${cfg.maxMetadataBytes}) must be at most ${MEMBERSHIP_LIMITS.maxMetaBytes}, the wire limit; keep metadata small (it rides on gossip)`)
  }
  if (typeof cfg.lifeguard !== 'boolean') throw new InvalidOptionError(`lifeguard must be true or false, got ${String(cfg.lifeguard)}`)
  if (typeof cfg.reliableProbeFallback !== 'boolean') throw new InvalidOptionError(`reliableProbeFallback must be true or false, got ${String(cfg.reliableProbeFallback)}`)
  if (cfg.indirectChecks > 16) throw new InvalidOptionError(`indirectChecks must be at most 16, got ${cfg.indirectChecks}; 3 is plenty`)
  if (cfg.suspicionConfirmations > MEMBERSHIP_LIMITS.maxAccusers - 1) {
    throw new InvalidOptionError(`suspicionConfirmations must be at most ${MEMBERSHIP_LIMITS.maxAccusers - 1}, got ${cfg.suspicionConfirmations}`)
  }
  if (cfg.awarenessMaxMultiplier > 64) throw new InvalidOptionError(`awarenessMaxMultiplier must be at most 64, got ${cfg.awarenessMaxMultiplier}`)
  return cfg
}
