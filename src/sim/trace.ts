/**
 * The simulation trace: every fault, lifecycle and (optionally) delivery event of a run, folded into a
 * streaming hash, with the most recent records kept in memory for reading (TigerBeetle's VOPR and
 * FoundationDB's simulation compare runs by such a hash: the same seed must give the same trace).
 *
 * Each record has a canonical text form, `<timeMs> <kind> k=v k=v ...\n` (fields in the order given;
 * numbers as JavaScript prints them, which is exact and platform independent), and the hash is 64-bit
 * FNV-1a over the UTF-8 bytes of those lines. Message deliveries are hashed from their bytes directly
 * (`recordDelivery`), so tracing every message costs no string building unless records are kept.
 *
 * Invariants: the hash depends only on the sequence of records (never on how many are kept); at most
 * `keep` records are held in memory (a ring buffer of the newest); `count` counts every record.
 */

export type TraceValue = string | number | boolean
export type TraceFields = Record<string, TraceValue>

export interface TraceRecord {
  /** True virtual time of the record (ms). */
  timeMs: number
  kind: string
  fields: TraceFields
}

/** 64-bit FNV-1a, kept as four 16-bit limbs so it runs on plain JavaScript numbers (no BigInt). */
export class Fnv1a64 {
  #h0 = 0x2325
  #h1 = 0x8422
  #h2 = 0x9ce4
  #h3 = 0xcbf2

  /** Feeds one byte (0..255). */
  byte (b: number): void {
    const h0 = this.#h0 ^ (b & 0xff)
    const h1 = this.#h1
    // h * 0x100000001b3 = h * 0x1b3 + (h << 40), computed limb by limb with carries.
    const t0 = h0 * 0x1b3
    let t1 = this.#h1 * 0x1b3
    let t2 = this.#h2 * 0x1b3 + (h0 << 8)
    const t3 = this.#h3 * 0x1b3 + (h1 << 8)
    t1 += t0 >>> 16
    t2 += t1 >>> 16
    this.#h0 = t0 & 0xffff
    this.#h1 = t1 & 0xffff
    this.#h3 = (t3 + (t2 >>> 16)) & 0xffff
    this.#h2 = t2 & 0xffff
  }

  bytes (data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) this.byte(data[i])
  }

  /** Feeds a string as UTF-8. */
  string (s: string): void {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c < 0x80) {
        this.byte(c)
      } else {
        this.bytes(encoder.encode(s.slice(i)))
        return
      }
    }
  }

  /** The hash as 16 lowercase hex digits. */
  hex (): string {
    return hex16(this.#h3) + hex16(this.#h2) + hex16(this.#h1) + hex16(this.#h0)
  }
}

const encoder = new TextEncoder()

function hex16 (v: number): string {
  return v.toString(16).padStart(4, '0')
}

/** 64-bit FNV-1a of a string's UTF-8 bytes, as 16 hex digits. */
export function fnv1a64 (s: string): string {
  const h = new Fnv1a64()
  h.string(s)
  return h.hex()
}

/** The canonical one-line text of a record (what the hash is computed over, without the newline). */
export function formatTraceRecord (timeMs: number, kind: string, fields: TraceFields): string {
  let line = `${timeMs} ${kind}`
  for (const key in fields) line += ` ${key}=${String(fields[key])}`
  return line
}

export interface TraceInit {
  /** Virtual time source for the records. */
  now: () => number
  /** How many of the newest records to keep in memory (0: none, the hash is still computed). @default 0 */
  keep?: number
}

export class Trace {
  readonly #now: () => number
  readonly #keep: number
  readonly #hash = new Fnv1a64()
  #records: TraceRecord[] = []
  #next = 0
  #count = 0

  constructor (init: TraceInit) {
    const keep = init.keep ?? 0
    if (!Number.isInteger(keep) || keep < 0) {
      throw new RangeError(`Trace: keep must be an integer >= 0 (how many records to hold in memory), got ${keep}`)
    }
    this.#now = init.now
    this.#keep = keep
  }

  /** Records submitted so far (kept or not). */
  get count (): number { return this.#count }

  /** Appends a record to the hash (and to memory, if records are kept). */
  record (kind: string, fields: TraceFields = {}): void {
    const timeMs = this.#now()
    const line = formatTraceRecord(timeMs, kind, fields)
    this.#hash.string(line)
    this.#hash.byte(0x0a)
    this.#count++
    if (this.#keep > 0) this.#remember({ timeMs, kind, fields: { ...fields } })
  }

  /**
   * A message delivery, hashed from its parts without building a string: `deliver from=.. to=.. bytes=..`
   * and then the payload bytes themselves.
   */
  recordDelivery (kind: string, from: string, to: string, payload: Uint8Array): void {
    const timeMs = this.#now()
    const h = this.#hash
    h.string(`${timeMs} ${kind} from=${from} to=${to} bytes=${payload.length} `)
    h.bytes(payload)
    h.byte(0x0a)
    this.#count++
    if (this.#keep > 0) this.#remember({ timeMs, kind, fields: { from, to, bytes: payload.length } })
  }

  /** The streaming hash of every record so far (16 hex digits). */
  hash (): string { return this.#hash.hex() }

  /** The kept records, oldest first. */
  records (): TraceRecord[] {
    if (this.#records.length < this.#keep) return this.#records.slice()
    return this.#records.slice(this.#next).concat(this.#records.slice(0, this.#next))
  }

  /** The kept records as canonical text lines (for golden files and failure reports). */
  lines (): string[] {
    return this.records().map((r) => formatTraceRecord(r.timeMs, r.kind, r.fields))
  }

  #remember (r: TraceRecord): void {
    if (this.#records.length < this.#keep) {
      this.#records.push(r)
    } else {
      this.#records[this.#next] = r
      this.#next = (this.#next + 1) % this.#keep
    }
  }
}
