export { createHashRing, HashRing, DEFAULT_VNODES, MAX_VNODES, comparePeerIds, ringChecksum } from './hash-ring.js'
export type { HashRingInit, RingRange } from './hash-ring.js'
export { RING_SIZE, keyPoint, vnodePoint, hashToPoint, namespaceSeed, xxh64 } from './hash.js'
export { arcLength, arcContains } from './placement.js'
