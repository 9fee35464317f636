/**
 * Logger: structured, levelled, and the only door to stderr for library code.
 *
 * - `createLogger({ level })` writes one JSON line per record to a sink (stderr by default).
 * - `silentLogger` drops everything; `MemoryLogger` keeps records for tests to assert on.
 * - `logOnce` lets a hot path report a repeated problem (a malformed frame from a peer) a single time per
 *   key, while metrics count every occurrence: "logged once, counted always".
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
export type LogFields = Record<string, unknown>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  /** A logger whose records carry `bindings` as extra fields (e.g. `{ peer: 'p1', component: 'swim' }`). */
  child(bindings: LogFields): Logger
}

export interface LogRecord { level: Exclude<LogLevel, 'silent'>, msg: string, fields: LogFields }

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent']

class SinkLogger implements Logger {
  constructor (
    private readonly level: LogLevel,
    private readonly sink: (record: LogRecord) => void,
    private readonly bindings: LogFields
  ) {}

  #emit (level: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields): void {
    if (RANK[level] < RANK[this.level]) return
    this.sink({ level, msg, fields: { ...this.bindings, ...fields } })
  }

  debug (msg: string, fields?: LogFields): void { this.#emit('debug', msg, fields) }
  info (msg: string, fields?: LogFields): void { this.#emit('info', msg, fields) }
  warn (msg: string, fields?: LogFields): void { this.#emit('warn', msg, fields) }
  error (msg: string, fields?: LogFields): void { this.#emit('error', msg, fields) }
  child (bindings: LogFields): Logger {
    return new SinkLogger(this.level, this.sink, { ...this.bindings, ...bindings })
  }
}

export interface LoggerInit {
  /** Lowest level written. @default 'info' */
  level?: LogLevel
  /** Where records go. @default one JSON line per record on stderr */
  sink?: (record: LogRecord) => void
}

export function createLogger (init: LoggerInit = {}): Logger {
  const level = init.level ?? 'info'
  if (!LOG_LEVELS.includes(level)) {
    throw new TypeError(`Logger level must be one of ${LOG_LEVELS.join(', ')}, got ${String(level)}`)
  }
  const sink = init.sink ?? ((r: LogRecord) => {
    process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: r.level, msg: r.msg, ...r.fields }) + '\n')
  })
  return new SinkLogger(level, sink, {})
}

/** Drops every record. */
export const silentLogger: Logger = new SinkLogger('silent', () => {}, {})

/** Keeps every record in `records`, for tests. */
export class MemoryLogger implements Logger {
  readonly records: LogRecord[]
  readonly #inner: Logger

  constructor (level: LogLevel = 'debug', records: LogRecord[] = [], bindings: LogFields = {}) {
    this.records = records
    this.#inner = new SinkLogger(level, (r) => this.records.push(r), bindings)
  }

  debug (msg: string, fields?: LogFields): void { this.#inner.debug(msg, fields) }
  info (msg: string, fields?: LogFields): void { this.#inner.info(msg, fields) }
  warn (msg: string, fields?: LogFields): void { this.#inner.warn(msg, fields) }
  error (msg: string, fields?: LogFields): void { this.#inner.error(msg, fields) }
  child (bindings: LogFields): Logger { return this.#inner.child(bindings) }
}

/**
 * Returns a function that logs at `warn` the first time it sees a key and stays quiet afterwards.
 * Remembers at most `maxKeys` keys (then it forgets the oldest), so hostile input cannot grow it.
 */
export function logOnce (logger: Logger, maxKeys = 1024): (key: string, msg: string, fields?: LogFields) => void {
  const seen = new Set<string>()
  return (key, msg, fields) => {
    if (seen.has(key)) return
    if (seen.size >= maxKeys) seen.delete(seen.values().next().value as string)
    seen.add(key)
    logger.warn(msg, fields)
  }
}
