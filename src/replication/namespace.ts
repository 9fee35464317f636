/**
 * Namespace definitions: what a namespace is, its validation, defaults and quorum math.
 *
 * A namespace groups keys under one replication strategy (DESIGN.md "Namespaces and replication"):
 * `{ name, replication, replicas, writeQuorum?, readQuorum?, ttlMs?, maxBytes?, eviction?, readMode? }`.
 * A definition is validated eagerly and completed with its defaults, so that two peers comparing
 * definitions compare the same resolved values (a definition travels resolved, never with gaps that a
 * peer of another version could fill differently).
 *
 * Quorums (Dynamo; Gifford's weighted voting): with N replicas, a write waits for W acks and a read asks
 * R replicas. Defaults are majorities, `W = R = floor(N/2) + 1`, so `R + W > N` and every read quorum
 * meets every write quorum. Smaller quorums are allowed (a user's choice, documented as weaker).
 */
import { InvalidOptionError } from '../errors.js'
import { EVICTION_POLICIES } from '../storage/options.js'
import type { EvictionPolicy } from '../storage/options.js'

export type ReplicationMode = 'async' | 'sync' | 'strong'
export type ReadMode = 'local' | 'primary' | 'quorum'

export const REPLICATION_MODES: readonly ReplicationMode[] = ['async', 'sync', 'strong']
export const READ_MODES: readonly ReadMode[] = ['local', 'primary', 'quorum']

/** Most replicas a namespace may ask for. */
export const MAX_REPLICAS = 16
/** Largest namespace name, in UTF-8 bytes (the wire's limit). */
export const MAX_NAMESPACE_NAME_BYTES = 256
/** Default replicas per key. */
export const DEFAULT_REPLICAS = 3
/** Default bound of a namespace's local store on each peer, in bytes. */
export const DEFAULT_NAMESPACE_MAX_BYTES = 64 * 1024 * 1024

/** A namespace as a user declares it. */
export interface NamespaceInit {
  /** 1–256 UTF-8 bytes; names starting with `_meshcache` are reserved. */
  name: string
  /**
   * `async`: the key's primary applies a write and answers; the other replicas get it in the background.
   * `sync`: a write waits for `writeQuorum` replicas, a read asks `readQuorum`. `strong`: linearizable
   * (not in this release).
   * @default 'async'
   */
  replication?: ReplicationMode
  /** Copies of each key, 1–16. @default 3 */
  replicas?: number
  /** Acks a sync write waits for, 1..replicas. @default majority of replicas */
  writeQuorum?: number
  /** Replicas a quorum read asks, 1..replicas. @default majority of replicas */
  readQuorum?: number
  /** TTL of a write that gives none, in ms. @default none */
  ttlMs?: number
  /** Bound of this namespace's store on each peer, in bytes. @default 64 MiB */
  maxBytes?: number
  /** Eviction policy of the local stores. @default 'w-tinylfu' */
  eviction?: EvictionPolicy
  /** Read mode of a get that names none. @default 'quorum' for sync, 'primary' for async */
  readMode?: ReadMode
}

/** A namespace definition with every default filled in. Immutable. */
export interface NamespaceDefinition {
  readonly name: string
  readonly replication: ReplicationMode
  readonly replicas: number
  readonly writeQuorum: number
  readonly readQuorum: number
  /** 0: none. */
  readonly ttlMs: number
  readonly maxBytes: number
  readonly eviction: EvictionPolicy
  readonly readMode: ReadMode
}

/** A strict majority of `n`: the smallest count that any two such counts share a member. */
export function majority (n: number): number {
  return Math.floor(n / 2) + 1
}

/** UTF-8 length of a string without allocating (a lone surrogate counts as U+FFFD, 3 bytes, as encoders write it). */
export function utf8Bytes (s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++ } else n += 3
  }
  return n
}

/** Checks a namespace name; throws InvalidOptionError naming the problem. */
export function checkNamespaceName (name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidOptionError(`a namespace name must be a non-empty string, got ${JSON.stringify(name)}`)
  if (!name.isWellFormed()) throw new InvalidOptionError(`namespace name ${JSON.stringify(name)} is not well-formed UTF-16 (a lone surrogate)`)
  if (utf8Bytes(name) > MAX_NAMESPACE_NAME_BYTES) throw new InvalidOptionError(`namespace name is ${utf8Bytes(name)} bytes of UTF-8, over the limit of ${MAX_NAMESPACE_NAME_BYTES}`)
  return name
}

const KNOWN_KEYS = new Set(['name', 'replication', 'replicas', 'writeQuorum', 'readQuorum', 'ttlMs', 'maxBytes', 'eviction', 'readMode'])

/** Validates a declaration and fills in its defaults. Throws InvalidOptionError with how to fix it. */
export function resolveNamespace (init: NamespaceInit, options: { allowReserved?: boolean } = {}): NamespaceDefinition {
  if (init === null || typeof init !== 'object') throw new InvalidOptionError('a namespace is an object like { name: "sessions", replication: "sync", replicas: 3 }')
  for (const k of Object.keys(init)) {
    if (!KNOWN_KEYS.has(k)) throw new InvalidOptionError(`namespace ${JSON.stringify(init.name)}: unknown option ${JSON.stringify(k)}; known: ${[...KNOWN_KEYS].join(', ')}`)
  }
  const name = checkNamespaceName(init.name)
  if (name.startsWith('_meshcache') && options.allowReserved !== true) {
    throw new InvalidOptionError(`namespace names starting with _meshcache are reserved; choose another name than ${JSON.stringify(name)}`)
  }
  const what = `namespace ${JSON.stringify(name)}`
  const replication = init.replication ?? 'async'
  if (!REPLICATION_MODES.includes(replication)) throw new InvalidOptionError(`${what}: replication must be one of ${REPLICATION_MODES.join(', ')}, got ${JSON.stringify(replication)}`)
  if (replication === 'strong') {
    throw new InvalidOptionError(`${what}: replication 'strong' (linearizable, CASPaxos) is not in this release yet; use 'sync' (quorums) or 'async'`)
  }
  const replicas = init.replicas ?? DEFAULT_REPLICAS
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) throw new InvalidOptionError(`${what}: replicas must be an integer from 1 to ${MAX_REPLICAS}, got ${String(replicas)}`)
  const quorum = (label: string, v: number | undefined): number => {
    const q = v ?? majority(replicas)
    if (!Number.isInteger(q) || q < 1 || q > replicas) throw new InvalidOptionError(`${what}: ${label} must be an integer from 1 to replicas (${replicas}), got ${String(v)}; leave it unset for a majority (${majority(replicas)})`)
    return q
  }
  const writeQuorum = quorum('writeQuorum', init.writeQuorum)
  const readQuorum = quorum('readQuorum', init.readQuorum)
  const ttlMs = init.ttlMs ?? 0
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs < 0) throw new InvalidOptionError(`${what}: ttlMs must be a whole number of milliseconds >= 0 (0: none), got ${String(init.ttlMs)}`)
  const maxBytes = init.maxBytes ?? DEFAULT_NAMESPACE_MAX_BYTES
  if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes < 1024) throw new InvalidOptionError(`${what}: maxBytes must be a whole number of bytes >= 1024, got ${String(init.maxBytes)}`)
  const eviction = init.eviction ?? 'w-tinylfu'
  if (!EVICTION_POLICIES.includes(eviction)) throw new InvalidOptionError(`${what}: eviction must be one of ${EVICTION_POLICIES.join(', ')}, got ${JSON.stringify(eviction)}`)
  const readMode = init.readMode ?? (replication === 'async' ? 'primary' : 'quorum')
  if (!READ_MODES.includes(readMode)) throw new InvalidOptionError(`${what}: readMode must be one of ${READ_MODES.join(', ')}, got ${JSON.stringify(readMode)}`)
  return Object.freeze({ name, replication, replicas, writeQuorum, readQuorum, ttlMs, maxBytes, eviction, readMode })
}

/** True when two resolved definitions are the same namespace (every field equal). */
export function sameDefinition (a: NamespaceDefinition, b: NamespaceDefinition): boolean {
  return a.name === b.name && a.replication === b.replication && a.replicas === b.replicas &&
    a.writeQuorum === b.writeQuorum && a.readQuorum === b.readQuorum && a.ttlMs === b.ttlMs &&
    a.maxBytes === b.maxBytes && a.eviction === b.eviction && a.readMode === b.readMode
}

/** A one-line description, for errors and logs. */
export function describeNamespace (d: NamespaceDefinition): string {
  return `${d.name} (${d.replication}, ${d.replicas} replicas, W ${d.writeQuorum}, R ${d.readQuorum}, ttl ${d.ttlMs === 0 ? 'none' : d.ttlMs + ' ms'}, ` +
    `${d.maxBytes} bytes, ${d.eviction}, reads ${d.readMode})`
}

/** The fields in which two definitions differ, for a conflict message. */
export function definitionDiff (a: NamespaceDefinition, b: NamespaceDefinition): string[] {
  const out: string[] = []
  for (const k of ['replication', 'replicas', 'writeQuorum', 'readQuorum', 'ttlMs', 'maxBytes', 'eviction', 'readMode'] as const) {
    if (a[k] !== b[k]) out.push(`${k} ${JSON.stringify(a[k])} vs ${JSON.stringify(b[k])}`)
  }
  return out
}
