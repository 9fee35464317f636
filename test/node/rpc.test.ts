import { describe, expect, it } from 'vitest'
import { MemoryLogger } from '../../src/env/logger.js'
import { BatchingRpc } from '../../src/node/rpc.js'
import type { CallError } from '../../src/replication/context.js'
import { Simulator } from '../../src/sim/index.js'
import type { Transport } from '../../src/transport/transport.js'
import { WIRE_VERSION } from '../../src/wire/codec.js'
import { decodeBatch, decodeReplyItem, encodeBatch, encodeRequestItem, type ReplyItem, type RequestItem } from '../../src/wire/replication.js'

interface Pair { sim: Simulator, client: BatchingRpc, server: BatchingRpc, serverTransport: Transport, clientTransport: Transport, frames: number[], logger: MemoryLogger }

/** A client rpc on host `c` and a server rpc on host `s` that answers every read with its key. */
function pair (options: { maxBatchItems?: number, maxQueuedItems?: number, maxInFlightBatches?: number, handle?: (item: RequestItem, answer: (r: ReplyItem) => void) => void } = {}): Pair {
  const sim = new Simulator({ seed: 1, link: { latencyMs: 1 } })
  const frames: number[] = []
  const logger = new MemoryLogger()
  let clientTransport!: Transport
  let serverTransport!: Transport
  let server!: BatchingRpc
  sim.addHost('s', (ctx) => {
    serverTransport = ctx.transport
    server = new BatchingRpc({ transport: ctx.transport, clock: ctx.clock, logger, requestTimeoutMs: 500, addressOf: (p) => p })
    const handle = options.handle ?? ((item, answer) => {
      if (item.type === 'read') answer({ type: 'entry', entry: { key: item.key, value: new TextEncoder().encode(item.key), version: { physical: 1, logical: 0, writerId: 's' } } })
      else answer({ type: 'status', status: 'ok' })
    })
    ctx.transport.setHandlers({
      onMessage () {},
      onRequest (from, payload, respond) { frames.push(payload.byteLength); server.serve(from, payload, handle, respond) }
    })
    return { stop () {} }
  })
  let client!: BatchingRpc
  sim.addHost('c', (ctx) => {
    clientTransport = ctx.transport
    client = new BatchingRpc({ transport: ctx.transport, clock: ctx.clock, logger, requestTimeoutMs: 500, addressOf: (p) => p, ...options })
    ctx.transport.setHandlers({ onMessage () {}, onRequest () {} })
    return { stop () {} }
  })
  return { sim, client, server, serverTransport, clientTransport, frames, logger }
}

const read = (key: string): RequestItem => ({ type: 'read', ns: 'n', key, noProxy: true })

describe('BatchingRpc', () => {
  it('coalesces the calls of one turn into one batch and maps the replies back in order', () => {
    const { sim, client, frames } = pair()
    const got: string[] = []
    for (let i = 0; i < 100; i++) client.call('s', read(`k${i}`), (err, r) => { expect(err).toBeNull(); got.push(r?.type === 'entry' ? r.entry.key : '?') })
    sim.runFor(10)
    expect(frames.length).toBe(1)
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => `k${i}`))
    expect(client.counters.itemsSent).toBe(100)
  })

  it('cuts batches at maxBatchItems and keeps at most maxInFlightBatches outstanding', () => {
    const { sim, client, frames } = pair({ maxBatchItems: 10, maxInFlightBatches: 2 })
    let done = 0
    for (let i = 0; i < 55; i++) client.call('s', read(`k${i}`), () => { done++ })
    sim.runFor(1)
    expect(frames.length).toBe(2) // the first two batches arrived; the other four wait for their answers
    sim.runFor(100)
    expect(done).toBe(55)
    expect(frames.length).toBe(6)
  })

  it('refuses a call at once when the destination queue is full (bounded, counted), never synchronously', () => {
    const { sim, client } = pair({ maxQueuedItems: 5, maxInFlightBatches: 1, maxBatchItems: 5 })
    const errors: CallError[] = []
    let sync = true
    for (let i = 0; i < 12; i++) client.call('s', read(`k${i}`), (err) => { expect(sync).toBe(false); if (err !== null) errors.push(err) })
    sync = false
    sim.runFor(50)
    expect(errors.map((e) => e.reason)).toEqual(['overloaded', 'overloaded'])
    expect(client.counters.overloaded).toBe(2)
  })

  it('refuses an item it cannot encode with reason encode, and the rest of the turn still goes', () => {
    const { sim, client } = pair()
    const seen: string[] = []
    client.call('s', read('k'.repeat(5000)), (err) => seen.push(err?.reason ?? 'ok'))
    client.call('s', read('fine'), (err) => seen.push(err?.reason ?? 'ok'))
    sim.runFor(10)
    expect(seen.sort()).toEqual(['encode', 'ok'])
  })

  it('fails every item of a batch with the transport reason (timeout across a partition)', () => {
    const { sim, client } = pair()
    sim.network.partition([['c'], ['s']])
    const reasons: string[] = []
    for (let i = 0; i < 3; i++) client.call('s', read(`k${i}`), (err) => reasons.push(err!.reason))
    sim.runFor(1000)
    expect(reasons).toEqual(['timeout', 'timeout', 'timeout'])
  })

  it('server: a malformed item gets an error reply, the other items are served; counted and logged once', () => {
    const { sim, clientTransport, server, logger } = pair()
    const good = encodeRequestItem(read('a'))
    const bad = Uint8Array.of(0x7e, 1, 2) // an unknown item type
    const replies: ReplyItem[] = []
    for (let round = 0; round < 3; round++) {
      clientTransport.request('s', encodeBatch('batch', [good, bad, good]), 500, (err, reply) => {
        expect(err).toBeNull()
        const d = decodeBatch(reply!)
        if (d.frame !== 'batch-reply') throw new Error('expected a reply batch')
        for (const it of d.items) replies.push(decodeReplyItem(it))
      })
    }
    sim.runFor(20)
    expect(replies.slice(0, 3).map((r) => r.type)).toEqual(['entry', 'error', 'entry'])
    expect(server.counters.malformed['item-unknown-type']).toBe(3)
    expect(logger.records.filter((r) => r.level === 'warn').length).toBe(1)
  })

  it('server: a frame of a future protocol version, or garbage, is refused with a batch-error and counted', () => {
    const { sim, clientTransport, server } = pair()
    const future = encodeBatch('batch', [encodeRequestItem(read('a'))])
    future[0] = WIRE_VERSION + 1
    const got: string[] = []
    clientTransport.request('s', future, 500, (_e, r) => { const d = decodeBatch(r!); got.push(d.frame === 'batch-error' ? d.code : d.frame) })
    clientTransport.request('s', Uint8Array.of(WIRE_VERSION, 0x30, 0xff, 0xff, 0xff), 500, (_e, r) => { const d = decodeBatch(r!); got.push(d.frame === 'batch-error' ? d.code : d.frame) })
    sim.runFor(20)
    expect(got).toEqual(['ERR_DECODE', 'ERR_DECODE'])
    expect(server.counters.malformed['unknown-version']).toBe(1)
    expect(Object.values(server.counters.malformed).reduce((a, b) => a + b, 0)).toBe(2)
  })

  it('a reply batch that would not fit one frame: the largest replies are sent again alone', () => {
    const big = new Uint8Array(900 * 1024)
    const { sim, client } = pair({
      handle: (item, answer) => answer({ type: 'entry', entry: { key: item.type === 'read' ? item.key : '?', value: big, version: { physical: 1, logical: 0, writerId: 's' } } })
    })
    let ok = 0
    for (let i = 0; i < 8; i++) client.call('s', read(`k${i}`), (err, r) => { if (err === null && r?.type === 'entry') ok++ })
    sim.runFor(100)
    expect(ok).toBe(8)
    expect(client.counters.resentAlone).toBeGreaterThan(0)
  })

  it('close fails what is queued with closed', () => {
    const { sim, client } = pair()
    const reasons: string[] = []
    client.call('s', read('a'), (err) => reasons.push(err?.reason ?? 'ok'))
    client.close()
    client.call('s', read('b'), (err) => reasons.push(err?.reason ?? 'ok'))
    sim.runFor(10)
    expect(reasons).toEqual(['closed', 'closed'])
  })
})
