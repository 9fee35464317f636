import { describe, expect, it } from 'vitest'
import { MemoryLogger, createLogger, logOnce } from '../../src/env/logger.js'

describe('Logger', () => {
  it('filters below the level and carries child bindings', () => {
    const records: unknown[] = []
    const log = createLogger({ level: 'info', sink: (r) => records.push(r) })
    log.debug('hidden')
    log.child({ peer: 'p1' }).warn('shown', { n: 1 })
    expect(records).toEqual([{ level: 'warn', msg: 'shown', fields: { peer: 'p1', n: 1 } }])
  })

  it('refuses an unknown level', () => {
    expect(() => createLogger({ level: 'loud' as never })).toThrow(/level must be one of/)
  })

  it('logOnce logs a key a single time', () => {
    const log = new MemoryLogger()
    const once = logOnce(log)
    once('bad-frame:p1', 'malformed frame')
    once('bad-frame:p1', 'malformed frame')
    once('bad-frame:p2', 'malformed frame')
    expect(log.records.length).toBe(2)
  })
})
