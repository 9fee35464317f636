/**
 * Smoke test of the pinned libp2p 3 stack on Node 20 (with src/polyfill.ts loaded by vitest's
 * setupFiles): two nodes over TCP on 127.0.0.1 with noise, yamux, identify and ping, the connection
 * monitor off. One dials the other, pings it, and they exchange meshcache frames, length-prefixed, over a
 * custom protocol stream (it-pipe + it-length-prefixed + messageStreamToDuplex, the plumbing DESIGN.md
 * picks). If an upgrade of any package breaks the stack, this fails.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { messageStreamToDuplex } from '@libp2p/utils'
import * as lp from 'it-length-prefixed'
import { pipe } from 'it-pipe'
import { createLibp2p } from 'libp2p'
import type { IdentifyResult } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeBatch, decodeReplyItem, decodeRequestItem, encodeBatch, encodeReplyItem, encodeRequestItem } from '../../src/wire/index.js'
import type { ReplyItem, RequestItem } from '../../src/wire/index.js'

const PROTOCOL = '/meshcache/smoke/1.0.0'

async function createNode () {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping() },
    // The monitor pings every connection every 10 s; meshcache turns it off where many peers share a process.
    connectionMonitor: { enabled: false }
  })
}

type Node = Awaited<ReturnType<typeof createNode>>

/** What the server side answers: a `read` of key k is answered with the value `value-of-k`. */
function answer (item: RequestItem): ReplyItem {
  if (item.type !== 'read') return { type: 'error', code: 'ERR_UNEXPECTED', message: `unexpected ${item.type}` }
  return {
    type: 'entry',
    entry: { key: item.key, value: new TextEncoder().encode(`value-of-${item.key}`), version: { physical: 1_700_000_000_000, logical: 0, writerId: 'server' } }
  }
}

/** One batch frame in, one batch-reply frame out: every item answered in order. */
function serve (frame: Uint8Array): Uint8Array {
  const batch = decodeBatch(frame)
  if (batch.frame !== 'batch') throw new Error(`unexpected ${batch.frame} frame`)
  return encodeBatch('batch-reply', batch.items.map((item) => encodeReplyItem(answer(decodeRequestItem(item)))))
}

describe('libp2p 3 stack (tcp, noise, yamux, identify, ping) on Node 20', () => {
  let a: Node
  let b: Node

  beforeAll(async () => {
    expect(typeof Promise.withResolvers).toBe('function') // the polyfill is loaded
    a = await createNode()
    b = await createNode()
    // One long-lived stream per peer pair: read frames until the other side closes, answer each one.
    await b.handle(PROTOCOL, async (stream) => {
      const duplex = messageStreamToDuplex(stream)
      await pipe(
        duplex.source,
        (source) => lp.decode(source),
        async function * (source) {
          for await (const frame of source) yield serve(frame.subarray())
        },
        (source) => lp.encode(source),
        duplex.sink
      )
    })
  })

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
  })

  it('dials, authenticates the remote peer and identifies it', async () => {
    const identified = new Promise<IdentifyResult>((resolve) => {
      a.addEventListener('peer:identify', (event) => { if (event.detail.peerId.equals(b.peerId)) resolve(event.detail) })
    })
    const listen = b.getMultiaddrs()
    expect(listen.length).toBeGreaterThan(0)
    expect(listen[0].toString()).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
    const connection = await a.dial(listen[0])
    expect(connection.remotePeer.equals(b.peerId)).toBe(true) // noise proved b's identity
    expect(connection.multiplexer).toBe('/yamux/1.0.0')
    expect(connection.encryption).toBe('/noise')
    const info = await identified
    expect(info.protocols).toContain(PROTOCOL)
    expect(info.protocols).toContain('/ipfs/ping/1.0.0')
  })

  it('pings the remote peer', async () => {
    const rttMs = await a.services.ping.ping(b.peerId)
    expect(rttMs).toBeGreaterThanOrEqual(0)
  })

  it('exchanges length-prefixed meshcache frames over one custom protocol stream', async () => {
    const requests: RequestItem[] = [
      { type: 'read', ns: 'default', key: 'alpha', noProxy: false },
      { type: 'read', ns: 'default', key: 'k'.repeat(4000), noProxy: false }, // spans several yamux/noise chunks
      { type: 'read', ns: 'default', key: 'γ', noProxy: false }
    ]
    const stream = await a.dialProtocol(b.peerId, PROTOCOL)
    expect(stream.protocol).toBe(PROTOCOL)
    const duplex = messageStreamToDuplex(stream)
    const replies = await pipe(
      requests.map((item) => encodeBatch('batch', [encodeRequestItem(item)])),
      (source) => lp.encode(source),
      duplex,
      (source) => lp.decode(source),
      async (source) => {
        const out: ReplyItem[] = []
        for await (const frame of source) {
          const batch = decodeBatch(frame.subarray())
          if (batch.frame !== 'batch-reply') throw new Error(`unexpected ${batch.frame} frame`)
          out.push(...batch.items.map((item) => decodeReplyItem(item)))
        }
        return out
      }
    )
    expect(replies.map((r) => r.type === 'entry' ? [r.entry.key, new TextDecoder().decode(r.entry.value!)] : r)).toEqual(
      requests.map((r) => r.type === 'read' ? [r.key, `value-of-${r.key}`] : r)
    )
  })

  it('stops both nodes cleanly', async () => {
    await a.stop()
    await b.stop()
    expect(a.status).toBe('stopped')
    expect(b.status).toBe('stopped')
    expect(a.getConnections()).toHaveLength(0)
  })
})
