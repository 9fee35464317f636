/**
 * Calling one replica, with the answers sorted into what a coordinator acts on, and the bookkeeping of
 * one client operation (deadline, exactly-once completion).
 *
 * `callReplica` turns a reply item into one of: an answer (`reply`), a refusal that names the key's
 * owners in the replica's view (`not-owner`: re-route there), or a failure (`failed`, with whether the
 * request may have had an effect: a timeout may, a refusal or an unreachable peer did not). A replica
 * that does not know the namespace yet gets our catalog pushed first and the call is tried once more, so
 * a namespace declared a moment ago works at once on peers that have not heard of it.
 */
import { InvalidKeyError, InvalidOptionError, MeshcacheError, ValueTooLargeError } from '../errors.js'
import type { TimerHandle } from '../env/clock.js'
import type { ReplyItem, RequestItem } from '../wire/replication.js'
import type { CallError, CallOptions, ReplicationContext } from './context.js'
import { NotANumberError, PeerStoppedError, QuorumNotReachedError, RemoteError, TimeoutError, UnavailableError, UnknownNamespaceError, type OperationOutcome } from './errors.js'

export type ReplicaAnswer =
  | { kind: 'reply', reply: ReplyItem }
  | { kind: 'not-owner', owners: readonly string[] }
  | { kind: 'failed', reason: string, maybeApplied: boolean, error?: MeshcacheError }

export interface CallHost {
  readonly ctx: ReplicationContext
  /** Sends this peer's namespace catalog to `peer` (it did not know a namespace); `done` when answered. */
  pushCatalog(peer: string, done: () => void): void
}

function withMessage<E extends Error> (err: E, message: string): E {
  err.message = message
  return err
}

/**
 * The error classes a replica's `error` reply is turned back into, by code. Refusals of the operation
 * itself (a bad key, a value too large, not a number) had no effect; a primary that could not reach its
 * quorum or timed out may have applied a forwarded write (`unknown`).
 */
const KNOWN_ERRORS: Record<string, (message: string) => MeshcacheError> = {
  ERR_INVALID_KEY: (m) => new InvalidKeyError(m),
  ERR_INVALID_OPTION: (m) => new InvalidOptionError(m),
  ERR_VALUE_TOO_LARGE: (m) => withMessage(new ValueTooLargeError('value', 0, 0), m),
  ERR_NOT_A_NUMBER: (m) => new NotANumberError(m),
  ERR_UNKNOWN_NAMESPACE: (m) => withMessage(new UnknownNamespaceError(''), m),
  ERR_QUORUM_NOT_REACHED: (m) => withMessage(new QuorumNotReachedError('', 0, 0, 'unknown'), m),
  ERR_TIMEOUT: (m) => new TimeoutError(m, 'unknown'),
  ERR_UNAVAILABLE: (m) => new UnavailableError(m, 'unknown'),
  ERR_PEER_STOPPED: () => new PeerStoppedError('unknown')
}

/** A typed error for an `error` reply item: the known class for its code, else RemoteError. */
export function errorFromReply (code: string, message: string, outcome: OperationOutcome): MeshcacheError {
  const make = KNOWN_ERRORS[code]
  return make !== undefined ? make(message) : new RemoteError(code, message, outcome)
}

function failureMayHaveApplied (err: CallError): boolean {
  // The request may have reached the replica and been applied, its answer lost.
  return err.reason === 'timeout' || err.reason === 'closed' || err.reason === 'malformed-reply'
}

/** Calls a replica and sorts its answer. */
export function callReplica (host: CallHost, peer: string, item: RequestItem, done: (a: ReplicaAnswer) => void, options?: CallOptions, retried = false): void {
  host.ctx.call(peer, item, (err, reply) => {
    if (err !== null || reply === undefined) {
      done({ kind: 'failed', reason: err?.reason ?? 'closed', maybeApplied: err === null || failureMayHaveApplied(err) })
      return
    }
    if (reply.type === 'status') {
      if (reply.status === 'not-owner') { done({ kind: 'not-owner', owners: reply.owners ?? [] }); return }
      if (reply.status === 'unknown-namespace') {
        if (retried) { done({ kind: 'failed', reason: 'unknown-namespace', maybeApplied: false }); return }
        host.pushCatalog(peer, () => callReplica(host, peer, item, done, options, true))
        return
      }
      if (reply.status === 'overloaded' || reply.status === 'stopped') { done({ kind: 'failed', reason: reply.status, maybeApplied: false }); return }
    }
    if (reply.type === 'error') {
      // the replica gave up on this item so that the rest of its batch could go back in time
      if (reply.code === 'ERR_TIMEOUT') { done({ kind: 'failed', reason: 'timeout', maybeApplied: true }); return }
      done({ kind: 'failed', reason: 'remote-error', maybeApplied: false, error: errorFromReply(reply.code, reply.message, 'none') })
      return
    }
    done({ kind: 'reply', reply })
  }, options)
}

export type OpDone<T> = (err: MeshcacheError | null, result?: T) => void

/** Every client operation in flight on a peer, so that `stop()` can end them. */
export class OpTracker {
  readonly #ops = new Set<Op<unknown>>()
  get size (): number { return this.#ops.size }
  add (op: Op<unknown>): void { this.#ops.add(op) }
  delete (op: Op<unknown>): void { this.#ops.delete(op) }
  /** Ends every operation with PeerStoppedError (`unknown` for writes: they may have been applied). */
  stopAll (): void {
    for (const op of [...this.#ops]) op.fail(new PeerStoppedError(op.isWrite ? 'unknown' : 'none'))
  }
}

/** What the steps of an operation need of it, whatever its result type. */
export type OpLike = Pick<Op<unknown>, 'what' | 'isWrite' | 'sent' | 'finished' | 'outcome' | 'fail' | 'onEnd'>

/**
 * One client operation: completes exactly once — with its result, an error, or TimeoutError at its
 * deadline (`unknown` for a write that may have left this peer).
 */
export class Op<T> {
  readonly what: string
  readonly isWrite: boolean
  /** Set once a write request left this peer: a failure is then `unknown`, not `none`. */
  sent = false
  #done: OpDone<T> | null
  #onEnd: Array<() => void> | null = null
  readonly #ctx: ReplicationContext
  readonly #tracker: OpTracker
  readonly #timer: TimerHandle

  constructor (ctx: ReplicationContext, tracker: OpTracker, what: string, isWrite: boolean, done: OpDone<T>, timeoutMs = ctx.config.operationTimeoutMs) {
    this.what = what
    this.isWrite = isWrite
    this.#done = done
    this.#ctx = ctx
    this.#tracker = tracker
    tracker.add(this as Op<unknown>)
    this.#timer = ctx.clock.setTimer(timeoutMs, () => {
      this.fail(new TimeoutError(`${what}: no answer within ${timeoutMs} ms`, this.isWrite && this.sent ? 'unknown' : 'none'))
    })
  }

  get finished (): boolean { return this.#done === null }

  /** The outcome a failure has now: `unknown` for a write that may have been applied somewhere. */
  get outcome (): OperationOutcome { return this.isWrite && this.sent ? 'unknown' : 'none' }

  ok (result: T): void { this.#finish(null, result) }

  /** Runs `fn` once when the operation ends, however it ends (at once if it already has). */
  onEnd (fn: () => void): void {
    if (this.#done === null) { fn(); return }
    (this.#onEnd ??= []).push(fn)
  }

  fail (err: MeshcacheError): void { this.#finish(err) }

  #finish (err: MeshcacheError | null, result?: T): void {
    const done = this.#done
    if (done === null) return
    this.#done = null
    this.#ctx.clock.clearTimer(this.#timer)
    this.#tracker.delete(this as Op<unknown>)
    if (err !== null) this.#ctx.counters.opsFailed++
    const hooks = this.#onEnd
    this.#onEnd = null
    if (hooks !== null) for (const fn of hooks) fn()
    done(err, result)
  }
}
