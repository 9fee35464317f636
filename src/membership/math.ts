/**
 * The protocol math of SWIM + Lifeguard, as small named functions with table tests
 * (test/membership/math.test.ts). Sources: SWIM (Das, Gupta, Motivala 2002) for the probe round and
 * dissemination bound; Lifeguard (Dadgar et al. 2018, arXiv 1707.00788) for the local health multiplier
 * and the dynamic suspicion timeout; hashicorp/memberlist's util.go and suspicion.go for the exact shapes
 * (`retransmitLimit`, `suspicionTimeout`, `remainingSuspicionTime`, `pushPullScale`).
 *
 * Everything here is pure: numbers in, numbers out; times are milliseconds.
 */

/** How many times one update is retransmitted: `mult * ceil(log10(n + 1))` (memberlist's retransmitLimit). */
export function retransmitLimit (retransmitMult: number, members: number): number {
  const n = Math.max(1, members)
  return retransmitMult * Math.ceil(Math.log10(n + 1))
}

/**
 * The shortest suspicion timeout: `mult * max(1, log10(n)) * probeInterval` (memberlist's
 * suspicionTimeout), never below `floorMs`. It grows with log n because gossip needs O(log n) rounds to
 * reach everyone, and the suspect must hear of its suspicion and its refutation must come back in that
 * time; the floor is for what does not depend on n: a peer whose event loop stalls a few seconds must
 * still be able to refute once it wakes up.
 */
export function suspicionMinMs (suspicionMult: number, members: number, probeIntervalMs: number, floorMs = 0): number {
  const scale = Math.max(1, Math.log10(Math.max(1, members)))
  return Math.max(floorMs, Math.floor(suspicionMult * scale * probeIntervalMs))
}

/** The longest suspicion timeout (Lifeguard's β): where a suspicion with no confirmation starts. */
export function suspicionMaxMs (minMs: number, suspicionMaxMult: number): number {
  return Math.floor(minMs * suspicionMaxMult)
}

/**
 * How many independent confirmations drive the timeout down to its minimum: `k`, but never more than
 * the members that could confirm (everyone but us and the suspect), as in memberlist.
 */
export function suspicionConfirmationsWanted (k: number, members: number): number {
  return Math.max(0, Math.min(k, members - 2))
}

/**
 * Lifeguard's dynamic suspicion timeout, total (from the start of the suspicion), after `confirmations`
 * independent confirmations out of `wanted`: it starts at `maxMs` and falls logarithmically to `minMs`:
 * `max - (max - min) * log(c + 1) / log(k + 1)`, floored at `minMs`. With `wanted < 1` it is `minMs`.
 */
export function suspicionTimeoutMs (confirmations: number, wanted: number, minMs: number, maxMs: number): number {
  if (wanted < 1) return minMs
  const c = Math.min(Math.max(0, confirmations), wanted)
  const fraction = Math.log(c + 1) / Math.log(wanted + 1)
  const timeout = Math.floor(maxMs - fraction * (maxMs - minMs))
  return Math.max(minMs, timeout)
}

/** Time left before a suspicion expires; can be negative (expire at once). */
export function suspicionRemainingMs (confirmations: number, wanted: number, minMs: number, maxMs: number, elapsedMs: number): number {
  return suspicionTimeoutMs(confirmations, wanted, minMs, maxMs) - elapsedMs
}

/** Lifeguard's local health multiplier: a health score of s stretches probe interval and timeouts s + 1 times. */
export function healthMultiplier (score: number): number {
  return score + 1
}

/** A duration stretched by the local health score (memberlist's awareness.ScaleTimeout). */
export function scaleByHealth (ms: number, score: number): number {
  return ms * healthMultiplier(score)
}

/** The direct-ack timeout of a probe, scaled by local health (Lifeguard's LHA-Probe). */
export function probeTimeoutMs (baseProbeTimeoutMs: number, score: number): number {
  return scaleByHealth(baseProbeTimeoutMs, score)
}

/**
 * What our own event-loop lag does to our health score: nothing below the threshold, else one point per
 * started probe interval of lag, capped. A peer whose timers fire seconds late cannot tell a slow member
 * from a dead one, so it should probe less and wait longer (the main source of false positives in Node).
 */
export function lagHealthDelta (lagMs: number, lagThresholdMs: number, probeIntervalMs: number, maxScore: number): number {
  if (!(lagMs >= lagThresholdMs) || lagMs <= 0) return 0
  return Math.min(maxScore, Math.ceil(lagMs / probeIntervalMs))
}

/**
 * How much longer to wait before acting on a timeout that fired `latenessMs` late. A late timer means our
 * event loop stalled: replies that arrived during the stall may still be waiting to be read, and news
 * (a refutation) may be one exchange away. Wait as long as we were late, capped at `capMs`, instead of
 * blaming a member for our own slowness.
 */
export function lateTimerGraceMs (latenessMs: number, lagThresholdMs: number, capMs: number): number {
  if (!(latenessMs >= lagThresholdMs) || latenessMs <= 0) return 0
  return Math.max(1, Math.min(latenessMs, capMs))
}

/**
 * How long an indirect-probe relay waits for the target before it answers with a nack: 80 % of the time
 * left in the probe when the ping-req goes out, so the nack reaches the prober before the probe ends.
 */
export function relayNackTimeoutMs (remainingMs: number): number {
  return Math.max(1, Math.floor(remainingMs * 0.8))
}

/**
 * With the reliable fallback, how long after the direct timeout the indirect probes wait for it to be
 * answered: a quarter of the indirect window (lan: 125 ms), plenty for a round trip on a working link.
 */
export function indirectProbeDelayMs (probeIntervalMs: number, probeTimeoutMs: number): number {
  return Math.max(1, Math.floor((probeIntervalMs - probeTimeoutMs) / 4))
}

/** memberlist's pushPullScale: above 32 members, push-pull slows down by one interval per doubling. */
export const PUSH_PULL_SCALE_THRESHOLD = 32

export function pushPullIntervalMs (baseIntervalMs: number, members: number): number {
  if (members <= PUSH_PULL_SCALE_THRESHOLD) return baseIntervalMs
  const multiplier = Math.ceil(Math.log2(members) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1
  return multiplier * baseIntervalMs
}

/**
 * How often one peer re-probes a dead member, scaled like push-pull: what heals a partition quickly is
 * the mesh-wide rate of re-probes (n / interval), so each peer can re-probe less often in a large mesh.
 */
export function deadProbeIntervalMs (baseIntervalMs: number, members: number): number {
  return pushPullIntervalMs(baseIntervalMs, members)
}

/**
 * Whether a push-pull that changed `changes` entries of our view should be followed at once by another
 * push-pull with a random member. After a partition heals (or a mass join) views differ in hundreds of
 * entries, far more than piggybacked gossip can carry quickly; a state exchange that found many
 * differences is passed on, so full-state anti-entropy spreads like an epidemic and stops by itself
 * when views agree.
 */
export function pushPullCascades (changes: number, members: number): boolean {
  return changes >= Math.max(4, Math.ceil(members / 8))
}

/** The probe round at `nowMs`: rounds are `probeIntervalMs` long and start at this peer's own phase. */
export function probeRound (nowMs: number, phaseMs: number, probeIntervalMs: number): number {
  return Math.floor((nowMs - phaseMs) / probeIntervalMs)
}

/**
 * In round r, the member at position i of the shared probe order probes position `i + probeOffset(r, n)`
 * (mod n). The offset is the same for every member in a round, so the probes of one round are a cyclic
 * shift: each member is probed by exactly one other member per round, and over n - 1 rounds each member
 * probes every other member once (SWIM's round-robin, with first-probe delay bounded by ~2 rounds instead
 * of the geometric tail of independent shuffles).
 */
export function probeOffset (round: number, members: number): number {
  if (members < 2) return 0
  const m = members - 1
  return 1 + (((round % m) + m) % m)
}

/**
 * Lifeguard's health change after a probe: -1 when it was acked. When it was not: if relays were asked
 * for nacks and none answered, +1 for each (we could not hear from members that are fine, so the fault
 * is likely ours); if at least one relay nacked, 0 (we hear others, the target is the silent one: in a
 * partition the relays on the far side cannot nack, and counting them would slow every peer on both
 * sides down to its slowest rate); with no relay asked, +1.
 */
export function probeHealthDelta (acked: boolean, expectedNacks: number, nacks: number): number {
  if (acked) return -1
  if (expectedNacks > 0) return nacks > 0 ? 0 : expectedNacks
  return 1
}
