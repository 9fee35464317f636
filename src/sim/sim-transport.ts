/**
 * A host's view of the simulated network: the `Transport` (src/transport/transport.ts) that a process
 * running in the simulator talks through. It is a thin handle; the routing, faults and accounting live
 * in `SimNetwork`. One SimTransport exists per process lifetime (a restart gets a fresh one).
 *
 * Semantics (the compliance suite in test/transport/compliance.ts checks the shared part):
 * - `send` is best-effort: subject to the link's loss, duplication, jitter and reordering, to partitions
 *   and blocks, and dropped if nobody is listening. The bytes are copied at send time, as a socket would.
 *   A payload over `maxDatagramBytes` throws `TransportError('too-large')`; after `close()`, `send` is a no-op.
 *   A delivered datagram may be a view into a buffer shared with other datagrams (as a socket's read buffer
 *   is): it is the receiver's to read or mutate, but copy what you keep for long.
 * - `request` is reliable: never lost or duplicated by the link, but delayed by latency both ways. Its one
 *   outcome, always delivered asynchronously (never inside the `request` call):
 *   a reply; `timeout` after `timeoutMs` of the requester's clock when a partition, block or crash
 *   swallows the request or the reply, or the responder never answers; `unreachable` when the address is
 *   unknown (at once), or after a round trip when the destination has no live listener (crashed, closed,
 *   no handlers: a refused connection); `closed` when this transport is closed before the outcome
 *   (delivered synchronously inside `close()`); `too-large` when the request or reply is over
 *   `maxRequestBytes`. A reply that arrives after the outcome is dropped and counted (`lateReplies`).
 * - When the host crashes, the process is gone: its pending requests are discarded without callbacks.
 */
import type { Address, Transport, TransportError, TransportHandlers } from '../transport/transport.js'
import type { SimEvent } from './event-queue.js'
import type { SimHost } from './host.js'
import type { SimNetwork } from './network.js'

type Done = (err: TransportError | null, reply?: Uint8Array) => void

/** One outstanding reliable request. */
export class PendingRequest {
  readonly transport: SimTransport
  readonly done: Done
  readonly to: Address
  readonly timeoutMs: number
  settled = false
  timeout: SimEvent | null = null

  constructor (transport: SimTransport, to: Address, timeoutMs: number, done: Done) {
    this.transport = transport
    this.to = to
    this.timeoutMs = timeoutMs
    this.done = done
  }
}

export class SimTransport implements Transport {
  readonly address: Address
  readonly maxDatagramBytes: number
  readonly maxRequestBytes: number
  /** @internal */ readonly host: SimHost
  /** @internal the host epoch this transport belongs to */ readonly epoch: number
  /** @internal */ readonly network: SimNetwork
  /** @internal */ handlers: TransportHandlers | null = null
  /** @internal */ closed = false
  /** @internal */ readonly pending = new Set<PendingRequest>()

  constructor (network: SimNetwork, host: SimHost, epoch: number, maxDatagramBytes: number, maxRequestBytes: number) {
    this.network = network
    this.host = host
    this.epoch = epoch
    this.address = host.address
    this.maxDatagramBytes = maxDatagramBytes
    this.maxRequestBytes = maxRequestBytes
  }

  setHandlers (handlers: TransportHandlers): void {
    if (this.closed) return
    this.handlers = handlers
  }

  send (to: Address, payload: Uint8Array): void {
    this.network.send(this, to, payload)
  }

  request (to: Address, payload: Uint8Array, timeoutMs: number, done: Done): void {
    this.network.request(this, to, payload, timeoutMs, done)
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    this.handlers = null
    this.network.closeTransport(this)
  }

  /** @internal The process crashed: no callback of it may run again. */
  kill (): void {
    this.closed = true
    this.handlers = null
    for (const req of this.pending) {
      req.settled = true
      if (req.timeout !== null) req.timeout.cancelled = true
    }
    this.pending.clear()
  }
}
