/**
 * The namespace catalog: every namespace a peer knows, and how definitions spread and agree.
 *
 * A declaration is stamped `(declaredAt, origin)`: the declaring peer's HLC reading and id. Catalogs are
 * exchanged whole (they are small: at most `maxNamespaces` entries) — pushed to every live member on a
 * runtime declaration, pulled from a member on join, and push-pulled with a random member periodically
 * — and merged entry by entry with `merge`:
 * - an unknown namespace is added;
 * - the same definition under another stamp keeps the earlier stamp (so stamps converge too);
 * - a *different* definition of a known name is a conflict: the earlier stamp wins everywhere (a total,
 *   deterministic order, so every peer picks the same winner without coordination), the loser is
 *   reported. A local `declare` that conflicts with a known definition is refused instead.
 *
 * Invariants: after two catalogs merge both ways, they hold the same entries (same checksum); a merge
 * never holds more than `maxNamespaces` entries (extra remote ones are refused and counted); the winner of
 * a conflict depends only on the two stamps.
 */
import { compareTimestamps, type HlcTimestamp } from '../storage/hlc.js'
import { xxh64 } from '../ring/hash.js'
import { describeNamespace, definitionDiff, sameDefinition, type NamespaceDefinition } from './namespace.js'
import { NamespaceConflictError } from './errors.js'

export interface CatalogEntry {
  readonly definition: NamespaceDefinition
  readonly declaredAt: HlcTimestamp
  readonly origin: string
}

export type CatalogChange =
  | { kind: 'added', entry: CatalogEntry }
  | { kind: 'replaced', entry: CatalogEntry, previous: CatalogEntry }
  | { kind: 'conflict-kept', entry: CatalogEntry, refused: CatalogEntry }
  | { kind: 'refused-full', refused: CatalogEntry }

/** Orders stamps: earlier declaration first, then origin id. */
export function compareStamps (a: CatalogEntry, b: CatalogEntry): number {
  return compareTimestamps(a.declaredAt, b.declaredAt) || (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0)
}

export const DEFAULT_MAX_NAMESPACES = 256

export class NamespaceCatalog {
  readonly maxNamespaces: number
  readonly #entries = new Map<string, CatalogEntry>()
  #checksum: string | undefined

  constructor (maxNamespaces = DEFAULT_MAX_NAMESPACES) {
    this.maxNamespaces = maxNamespaces
  }

  get size (): number { return this.#entries.size }

  get (name: string): CatalogEntry | undefined { return this.#entries.get(name) }

  has (name: string): boolean { return this.#entries.has(name) }

  entries (): CatalogEntry[] { return [...this.#entries.values()].sort((a, b) => (a.definition.name < b.definition.name ? -1 : 1)) }

  /**
   * Declares a namespace locally. The same definition again returns the known entry; a different one
   * throws NamespaceConflictError; a full catalog throws too.
   */
  declare (definition: NamespaceDefinition, declaredAt: HlcTimestamp, origin: string): { entry: CatalogEntry, added: boolean } {
    const known = this.#entries.get(definition.name)
    if (known !== undefined) {
      if (sameDefinition(known.definition, definition)) return { entry: known, added: false }
      throw new NamespaceConflictError(definition.name,
        `namespace ${JSON.stringify(definition.name)} is already declared differently (${definitionDiff(definition, known.definition).join('; ')}); ` +
        `the mesh holds ${describeNamespace(known.definition)}, declared by ${known.origin}. Use another name, or the existing definition`)
    }
    if (this.#entries.size >= this.maxNamespaces) {
      throw new NamespaceConflictError(definition.name, `the mesh already has ${this.maxNamespaces} namespaces (maxNamespaces); cannot declare ${JSON.stringify(definition.name)}`)
    }
    const entry: CatalogEntry = { definition, declaredAt: { physical: declaredAt.physical, logical: declaredAt.logical }, origin }
    this.#entries.set(definition.name, entry)
    this.#checksum = undefined
    return { entry, added: true }
  }

  /** Merges entries received from another peer; returns what changed here. */
  merge (remote: readonly CatalogEntry[]): CatalogChange[] {
    const changes: CatalogChange[] = []
    for (const r of remote) {
      const known = this.#entries.get(r.definition.name)
      if (known === undefined) {
        if (this.#entries.size >= this.maxNamespaces) { changes.push({ kind: 'refused-full', refused: r }); continue }
        this.#entries.set(r.definition.name, r)
        changes.push({ kind: 'added', entry: r })
        this.#checksum = undefined
        continue
      }
      const order = compareStamps(r, known)
      if (sameDefinition(known.definition, r.definition)) {
        if (order < 0) { this.#entries.set(r.definition.name, r); this.#checksum = undefined }
        continue
      }
      if (order < 0) {
        this.#entries.set(r.definition.name, r)
        this.#checksum = undefined
        changes.push({ kind: 'replaced', entry: r, previous: known })
      } else if (order > 0) {
        changes.push({ kind: 'conflict-kept', entry: known, refused: r })
      }
    }
    return changes
  }

  /** Identifies the catalog's content: equal checksums, equal catalogs. */
  checksum (): string {
    if (this.#checksum === undefined) {
      let text = ''
      for (const e of this.entries()) {
        const d = e.definition
        text += `${d.name.length}:${d.name}|${d.replication}|${d.replicas}|${d.writeQuorum}|${d.readQuorum}|${d.ttlMs}|${d.maxBytes}|${d.eviction}|${d.readMode}|${e.declaredAt.physical}.${e.declaredAt.logical}|${e.origin.length}:${e.origin};`
      }
      this.#checksum = xxh64(text).toString(16).padStart(16, '0')
    }
    return this.#checksum
  }
}
