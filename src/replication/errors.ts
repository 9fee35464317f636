/**
 * The failures a caller of the key-value API can expect, each a class with a stable `code` (STYLE.md: two
 * kinds of error). Operation errors also say what the caller may assume about the operation's effect —
 * Jepsen's `fail` (certainly no effect) and `info` (unknown): `outcome: 'none'` means the operation had no
 * effect anywhere, `outcome: 'unknown'` means some replica may have applied it (a write that reached fewer
 * than W replicas, a timeout after the request left). Reads never have an effect: their outcome is 'none'.
 */
import { MeshcacheError } from '../errors.js'

/** What a failed operation may have done: nothing (`none`, Jepsen's fail) or maybe something (`unknown`, info). */
export type OperationOutcome = 'none' | 'unknown'

/** A failed operation; `outcome` says whether it may have taken effect. */
export class OperationError extends MeshcacheError {
  readonly outcome: OperationOutcome
  constructor (code: string, message: string, outcome: OperationOutcome = 'none') {
    super(code, message)
    this.outcome = outcome
  }
}

/** Fewer replicas than the quorum answered in time. */
export class QuorumNotReachedError extends OperationError {
  readonly acks: number
  readonly needed: number
  constructor (what: string, acks: number, needed: number, outcome: OperationOutcome) {
    super('ERR_QUORUM_NOT_REACHED', `${what}: ${acks} of the ${needed} replica answers needed arrived in time`, outcome)
    this.acks = acks
    this.needed = needed
  }
}

/** The operation did not complete within its deadline. */
export class TimeoutError extends OperationError {
  constructor (message: string, outcome: OperationOutcome) { super('ERR_TIMEOUT', message, outcome) }
}

/** No replica of the key could be reached (none alive in this peer's view, or every attempt failed at once). */
export class UnavailableError extends OperationError {
  constructor (message: string, outcome: OperationOutcome = 'none') { super('ERR_UNAVAILABLE', message, outcome) }
}

/** The namespace is not declared (on this peer, or on the replica that was asked). */
export class UnknownNamespaceError extends OperationError {
  readonly namespace: string
  constructor (namespace: string) {
    super('ERR_UNKNOWN_NAMESPACE', `namespace ${JSON.stringify(namespace)} is not declared; declare it first (peer.declareNamespace({ name, replication, replicas }) or the namespaces option)`)
    this.namespace = namespace
  }
}

/** A namespace was declared again with a different definition. */
export class NamespaceConflictError extends MeshcacheError {
  readonly namespace: string
  constructor (namespace: string, message: string) {
    super('ERR_NAMESPACE_CONFLICT', message)
    this.namespace = namespace
  }
}

/** `incr` / `decr` on a value that is not an integer, or a result outside the safe integer range. */
export class NotANumberError extends OperationError {
  constructor (message: string) { super('ERR_NOT_A_NUMBER', message) }
}

/** A bounded queue is full: the request was refused before it was sent. */
export class OverloadedError extends OperationError {
  constructor (message: string) { super('ERR_OVERLOADED', message) }
}

/** The peer is stopping or stopped; operations in flight end with this. */
export class PeerStoppedError extends OperationError {
  constructor (outcome: OperationOutcome = 'none') { super('ERR_PEER_STOPPED', 'the peer is stopped (or leaving): no new operations are accepted', outcome) }
}

/** A replica answered with an error this build does not know by code (a newer peer, a remote bug). */
export class RemoteError extends OperationError {
  readonly remoteCode: string
  constructor (remoteCode: string, message: string, outcome: OperationOutcome) {
    super('ERR_REMOTE', `a replica refused the request: ${remoteCode}: ${message}`, outcome)
    this.remoteCode = remoteCode
  }
}
