/**
 * meshcache's public API. Import this module first: it installs the Node 20 polyfill libp2p needs.
 */
import './polyfill.js'

export * from './errors.js'
export * from './env/index.js'
export type { Address, Transport, TransportHandlers, TransportErrorCode } from './transport/transport.js'
export { TransportError } from './transport/transport.js'
export { DecodeError, EncodeError, WIRE_VERSION, DEFAULT_WIRE_LIMITS } from './wire/codec.js'
export type { WireLimits, DecodeErrorReason } from './wire/codec.js'
export * from './sim/index.js'
