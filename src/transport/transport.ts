/**
 * The Transport seam, split by guarantee (hashicorp/memberlist's transport.go):
 *
 * - **best-effort messages** (`send` / `onMessage`): probes, acks, gossip. May be dropped, duplicated,
 *   delayed or reordered; never retried by the transport. Payloads should fit `maxDatagramBytes`.
 * - **reliable request/response** (`request` / `onRequest`): push-pull state sync, later replication and
 *   hand-off. Each request gets exactly one outcome: a reply, or a `TransportError` (`timeout`,
 *   `unreachable`, `closed`, `too-large`). A reply that arrives after the timeout is dropped.
 *
 * Both carry opaque bytes (the wire codec's frames): the transport never interprets them. Callbacks, not
 * promises, so the simulator can run everything synchronously in virtual time and replay a seed exactly.
 * Two implementations: the simulated network (`src/sim`) and libp2p (`src/transport/libp2p`, later). Both
 * must pass `test/transport/compliance.ts`.
 */
import { MeshcacheError } from '../errors.js'

/** Where a peer can be reached. Opaque to the cores: a sim id, or `host:port` / a multiaddr for libp2p. */
export type Address = string

export type TransportErrorCode = 'timeout' | 'unreachable' | 'closed' | 'too-large'

export class TransportError extends MeshcacheError {
  readonly reason: TransportErrorCode
  constructor (reason: TransportErrorCode, message: string) {
    super(`ERR_TRANSPORT_${reason.toUpperCase().replace('-', '_')}`, message)
    this.reason = reason
  }
}

export interface TransportHandlers {
  /** A best-effort message arrived. */
  onMessage(from: Address, payload: Uint8Array): void
  /**
   * A request arrived; call `respond` exactly once with the reply (late or repeated calls are ignored).
   * Not calling it lets the requester time out.
   */
  onRequest(from: Address, payload: Uint8Array, respond: (reply: Uint8Array) => void): void
}

export interface Transport {
  /** This peer's own address, as others reach it. */
  readonly address: Address
  /** The largest best-effort payload that is sent whole (UDP-datagram sized). Larger ones are refused. */
  readonly maxDatagramBytes: number
  /** Installs the handlers; messages that arrive before this are dropped. */
  setHandlers(handlers: TransportHandlers): void
  /** Best-effort send. Never throws for network reasons; a payload over `maxDatagramBytes` throws `too-large`. */
  send(to: Address, payload: Uint8Array): void
  /** Reliable request; `done` is called exactly once. */
  request(to: Address, payload: Uint8Array, timeoutMs: number, done: (err: TransportError | null, reply?: Uint8Array) => void): void
  /** Stops sending and receiving; pending requests complete with `closed`. Idempotent. */
  close(): void
}
