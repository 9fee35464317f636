/**
 * Membership: SWIM with Lifeguard, as a pure core (`Swim`) plus its protocol math, dissemination queue,
 * probe order and checksum. The driver that gives it a transport and a clock is `src/node/membership-node.ts`.
 */
export { Swim } from './swim.js'
export type { SwimInit } from './swim.js'
export { resolveSwimConfig, presetConfig, MEMBERSHIP_PRESETS } from './config.js'
export type { SwimOptions, SwimConfig, MembershipPreset } from './config.js'
export { BroadcastQueue, QueuedUpdate } from './broadcast-queue.js'
export type { UpdatePriority } from './broadcast-queue.js'
export { MembershipChecksum, membershipChecksum, memberTripleHash } from './checksum.js'
export { ProbeOrder, probeOrderKey } from './probe-order.js'
export { MemberNumbers, MemberTable, sharedMemberNumbers } from './member-table.js'
export { Suspicion } from './suspicion.js'
export * from './math.js'
export type * from './types.js'
