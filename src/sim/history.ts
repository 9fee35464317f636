/**
 * Operation histories in Jepsen's format (DESIGN.md "Operation history"), written by the simulator's
 * clients, never by the system under test: one JSON object per line,
 * `{"index","time","process","type","f","ns","key","value"}`, `time` in nanoseconds of virtual time
 * since the run started. `invoke` then one of `ok` (it happened), `fail` (it certainly did not) or `info`
 * (unknown: that process never invokes again; the client continues as a new process). Nemesis events use
 * `"process": "nemesis"`.
 */

export type HistoryType = 'invoke' | 'ok' | 'fail' | 'info'
export type HistoryF = 'get' | 'set' | 'delete' | 'cas' | 'incr' | 'start' | 'stop' | string

export interface HistoryEvent {
  index: number
  time: number
  process: number | 'nemesis'
  type: HistoryType
  f: HistoryF
  ns?: string
  key?: string
  value: unknown
}

export class History {
  readonly events: HistoryEvent[] = []
  readonly #startMs: number
  readonly #enabled: boolean

  /** `enabled: false` keeps nothing (cheap runs that only want counts). */
  constructor (startMs: number, enabled = true) {
    this.#startMs = startMs
    this.#enabled = enabled
  }

  get length (): number { return this.events.length }

  add (nowMs: number, process: number | 'nemesis', type: HistoryType, f: HistoryF, ns: string | undefined, key: string | undefined, value: unknown): void {
    if (!this.#enabled) return
    const e: HistoryEvent = { index: this.events.length, time: Math.round((nowMs - this.#startMs) * 1e6), process, type, f, value }
    if (ns !== undefined) e.ns = ns
    if (key !== undefined) e.key = key
    this.events.push(e)
  }

  /** The history as JSON lines (each line one event; keys in the documented order). */
  toJsonLines (): string {
    let out = ''
    for (const e of this.events) {
      const o: Record<string, unknown> = { index: e.index, time: e.time, process: e.process, type: e.type, f: e.f }
      if (e.ns !== undefined) o.ns = e.ns
      if (e.key !== undefined) o.key = e.key
      o.value = e.value === undefined ? null : e.value
      out += JSON.stringify(o) + '\n'
    }
    return out
  }
}
