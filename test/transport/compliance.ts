/**
 * The Transport compliance suite (js-libp2p's interface-compliance-tests, for our seam): every Transport
 * implementation — the simulated network, libp2p — must pass it. It checks only what the contract in
 * src/transport/transport.ts promises, through a harness that hides how time passes: `settle(ms)` moves
 * virtual time in the simulator and waits real time on a real network, so the same test body runs on both.
 *
 * Waits are expressed in multiples of the harness's `roundTripMs` (a generous bound for one round trip),
 * never as wall-clock assertions.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TransportError } from '../../src/transport/transport.js'
import type { Address, Transport, TransportHandlers } from '../../src/transport/transport.js'

export interface TransportHarness {
  /** A new transport at a fresh address, able to reach every other transport of this harness. */
  create(): Promise<Transport>
  /** Lets `ms` pass: virtual time in a simulator, real time on a real network. */
  settle(ms: number): Promise<void>
  /** An address where nothing listens: requests to it fail with 'unreachable'. */
  unreachableAddress(): Address
  /** A generous bound for one request round trip, in ms; the suite waits multiples of it. */
  readonly roundTripMs: number
  /** Releases everything the harness made. */
  dispose(): Promise<void>
}

interface Received { from: Address, payload: Uint8Array }

interface Outcome { err: TransportError | null, reply?: Uint8Array }

/** Handlers that record what arrives; requests are answered by `answer` (default: echo). */
function recorder (answer?: (from: Address, payload: Uint8Array, respond: (reply: Uint8Array) => void) => void): TransportHandlers & { messages: Received[], requests: Received[] } {
  const messages: Received[] = []
  const requests: Received[] = []
  return {
    messages,
    requests,
    onMessage (from, payload) { messages.push({ from, payload: payload.slice() }) },
    onRequest (from, payload, respond) {
      requests.push({ from, payload: payload.slice() })
      if (answer !== undefined) answer(from, payload, respond)
      else respond(payload)
    }
  }
}

/** A `done` callback that records every call, to check "exactly once". */
function outcomes (): { calls: Outcome[], done: (err: TransportError | null, reply?: Uint8Array) => void } {
  const calls: Outcome[] = []
  return { calls, done: (err, reply) => { calls.push({ err, reply: reply?.slice() }) } }
}

function bytes (...values: number[]): Uint8Array { return Uint8Array.from(values) }

function pattern (n: number, salt = 0): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = (i * 31 + salt) & 0xff
  return out
}

/** Byte equality without the deep-equality machinery (slow on 256 KiB). */
function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}

function reasonOf (o: Outcome | undefined): string | undefined {
  return o?.err?.reason
}

export function transportCompliance (name: string, makeHarness: () => Promise<TransportHarness> | TransportHarness): void {
  describe(`Transport compliance: ${name}`, () => {
    let h: TransportHarness
    let rtt: number

    beforeEach(async () => {
      h = await makeHarness()
      rtt = h.roundTripMs
    })

    afterEach(async () => {
      await h.dispose()
    })

    it('gives every transport its own address and a datagram limit', async () => {
      const a = await h.create()
      const b = await h.create()
      expect(typeof a.address).toBe('string')
      expect(a.address).not.toBe(b.address)
      expect(Number.isInteger(a.maxDatagramBytes) && a.maxDatagramBytes >= 512).toBe(true)
    })

    it('delivers best-effort messages with the sender address and the bytes intact', async () => {
      const a = await h.create()
      const b = await h.create()
      const rb = recorder()
      b.setHandlers(rb)
      a.setHandlers(recorder())
      const all = new Uint8Array(256).map((_, i) => i)
      a.send(b.address, all)
      a.send(b.address, bytes(1, 2, 3))
      a.send(b.address, new Uint8Array(0))
      await h.settle(2 * rtt)
      expect(rb.messages.map((m) => m.from)).toEqual([a.address, a.address, a.address])
      const got = rb.messages.map((m) => Array.from(m.payload).join(',')).sort()
      expect(got).toEqual([Array.from(all).join(','), '', '1,2,3'].sort())
    })

    it('sends a snapshot: changing the buffer after send() does not change what arrives', async () => {
      const a = await h.create()
      const b = await h.create()
      const rb = recorder()
      b.setHandlers(rb)
      const buf = bytes(7, 7, 7)
      a.send(b.address, buf)
      buf.fill(0)
      await h.settle(2 * rtt)
      expect(rb.messages.map((m) => Array.from(m.payload))).toEqual([[7, 7, 7]])
    })

    it('delivers a datagram of exactly maxDatagramBytes and refuses one byte more with too-large', async () => {
      const a = await h.create()
      const b = await h.create()
      const rb = recorder()
      b.setHandlers(rb)
      const max = pattern(a.maxDatagramBytes, 3)
      a.send(b.address, max)
      let thrown: unknown
      try { a.send(b.address, pattern(a.maxDatagramBytes + 1)) } catch (err) { thrown = err }
      expect(thrown).toBeInstanceOf(TransportError)
      expect((thrown as TransportError).reason).toBe('too-large')
      expect((thrown as TransportError).code).toBe('ERR_TRANSPORT_TOO_LARGE')
      await h.settle(2 * rtt)
      expect(rb.messages).toHaveLength(1)
      expect(rb.messages[0].payload).toEqual(max)
    })

    it('does not deliver messages that arrived before the handlers were installed', async () => {
      const a = await h.create()
      const b = await h.create()
      a.send(b.address, bytes(1))
      await h.settle(2 * rtt)
      const rb = recorder()
      b.setHandlers(rb)
      await h.settle(2 * rtt)
      expect(rb.messages).toHaveLength(0)
      a.send(b.address, bytes(2))
      await h.settle(2 * rtt)
      expect(rb.messages.map((m) => Array.from(m.payload))).toEqual([[2]])
    })

    it('round-trips a request: the responder sees the requester, the requester gets the reply', async () => {
      const a = await h.create()
      const b = await h.create()
      const rb = recorder((_from, payload, respond) => respond(payload.slice().reverse()))
      b.setHandlers(rb)
      a.setHandlers(recorder())
      const big = pattern(256 * 1024, 5)
      const small = outcomes()
      const large = outcomes()
      a.request(b.address, bytes(1, 2, 3), 20 * rtt, small.done)
      a.request(b.address, big, 20 * rtt, large.done)
      await h.settle(4 * rtt)
      expect(small.calls).toHaveLength(1)
      expect(small.calls[0].err).toBeNull()
      expect(Array.from(small.calls[0].reply!)).toEqual([3, 2, 1])
      expect(large.calls).toHaveLength(1)
      expect(large.calls[0].err).toBeNull()
      expect(large.calls[0].reply!.byteLength).toBe(big.byteLength)
      expect(sameBytes(large.calls[0].reply!, big.slice().reverse())).toBe(true)
      expect(rb.requests.map((r) => r.from)).toEqual([a.address, a.address])
    })

    it('never calls done synchronously inside request()', async () => {
      const a = await h.create()
      const b = await h.create()
      b.setHandlers(recorder())
      const o = outcomes()
      a.request(h.unreachableAddress(), bytes(1), 20 * rtt, o.done)
      a.request(b.address, pattern(64), 20 * rtt, o.done)
      expect(o.calls).toHaveLength(0)
      await h.settle(4 * rtt)
      expect(o.calls).toHaveLength(2)
    })

    it('gives each request exactly one outcome, even when the responder answers twice or never', async () => {
      const a = await h.create()
      const b = await h.create()
      b.setHandlers(recorder((_from, payload, respond) => {
        if (payload[0] % 2 === 0) { respond(bytes(payload[0], 1)); respond(bytes(payload[0], 2)) }
      }))
      const timeoutMs = 5 * rtt
      const results = Array.from({ length: 10 }, () => outcomes())
      results.forEach((o, i) => a.request(b.address, bytes(i), timeoutMs, o.done))
      await h.settle(timeoutMs + 4 * rtt)
      results.forEach((o, i) => {
        expect(o.calls).toHaveLength(1)
        if (i % 2 === 0) {
          expect(o.calls[0].err).toBeNull()
          expect(Array.from(o.calls[0].reply!)).toEqual([i, 1])
        } else {
          expect(reasonOf(o.calls[0])).toBe('timeout')
        }
      })
    })

    it('times out a request the peer never answers, not before its timeout', async () => {
      const a = await h.create()
      const b = await h.create()
      b.setHandlers(recorder(() => {}))
      const timeoutMs = 10 * rtt
      const o = outcomes()
      a.request(b.address, bytes(9), timeoutMs, o.done)
      await h.settle(timeoutMs / 2)
      expect(o.calls).toHaveLength(0)
      await h.settle(timeoutMs / 2 + 4 * rtt)
      expect(o.calls).toHaveLength(1)
      expect(o.calls[0].err).toBeInstanceOf(TransportError)
      expect(reasonOf(o.calls[0])).toBe('timeout')
      expect(o.calls[0].err!.code).toBe('ERR_TRANSPORT_TIMEOUT')
    })

    it('drops a reply that arrives after the timeout', async () => {
      const a = await h.create()
      const b = await h.create()
      let late: ((reply: Uint8Array) => void) | undefined
      b.setHandlers(recorder((_from, _payload, respond) => { late = respond }))
      const timeoutMs = 5 * rtt
      const o = outcomes()
      a.request(b.address, bytes(1), timeoutMs, o.done)
      await h.settle(timeoutMs + 4 * rtt)
      expect(late).toBeDefined()
      expect(o.calls.map(reasonOf)).toEqual(['timeout'])
      late!(bytes(42))
      await h.settle(4 * rtt)
      expect(o.calls.map(reasonOf)).toEqual(['timeout'])
    })

    it('fails a request to an address where nothing listens with unreachable', async () => {
      const a = await h.create()
      const o = outcomes()
      a.request(h.unreachableAddress(), bytes(1), 20 * rtt, o.done)
      expect(() => a.send(h.unreachableAddress(), bytes(1))).not.toThrow()
      await h.settle(20 * rtt + 4 * rtt)
      expect(o.calls.map(reasonOf)).toEqual(['unreachable'])
      expect(o.calls[0].err!.code).toBe('ERR_TRANSPORT_UNREACHABLE')
    })

    it('fails a request to a closed transport with unreachable, before its timeout', async () => {
      const a = await h.create()
      const b = await h.create()
      b.setHandlers(recorder())
      b.close()
      const timeoutMs = 20 * rtt
      const o = outcomes()
      a.request(b.address, bytes(1), timeoutMs, o.done)
      await h.settle(timeoutMs / 2)
      expect(o.calls.map(reasonOf)).toEqual(['unreachable'])
    })

    it('close() is idempotent and completes pending requests with closed, exactly once', async () => {
      const a = await h.create()
      const b = await h.create()
      b.setHandlers(recorder(() => {}))
      const o1 = outcomes()
      const o2 = outcomes()
      a.request(b.address, bytes(1), 50 * rtt, o1.done)
      a.request(b.address, bytes(2), 50 * rtt, o2.done)
      await h.settle(2 * rtt)
      a.close()
      expect(() => a.close()).not.toThrow()
      await h.settle(60 * rtt)
      expect(o1.calls.map(reasonOf)).toEqual(['closed'])
      expect(o2.calls.map(reasonOf)).toEqual(['closed'])
      expect(o1.calls[0].err!.code).toBe('ERR_TRANSPORT_CLOSED')
    })

    it('after close(), requests fail with closed, sends are dropped without throwing, nothing is received', async () => {
      const a = await h.create()
      const b = await h.create()
      const ra = recorder()
      const rb = recorder()
      a.setHandlers(ra)
      b.setHandlers(rb)
      a.close()
      const o = outcomes()
      a.request(b.address, bytes(1), 20 * rtt, o.done)
      expect(() => a.send(b.address, bytes(1))).not.toThrow()
      b.send(a.address, bytes(2))
      await h.settle(4 * rtt)
      expect(o.calls.map(reasonOf)).toEqual(['closed'])
      expect(rb.messages).toHaveLength(0)
      expect(rb.requests).toHaveLength(0)
      expect(ra.messages).toHaveLength(0)
    })

    it('ignores a reply given after the responder closed', async () => {
      const a = await h.create()
      const b = await h.create()
      let respondLater: ((reply: Uint8Array) => void) | undefined
      b.setHandlers(recorder((_from, _payload, respond) => { respondLater = respond }))
      const timeoutMs = 10 * rtt
      const o = outcomes()
      a.request(b.address, bytes(1), timeoutMs, o.done)
      await h.settle(2 * rtt)
      expect(respondLater).toBeDefined()
      b.close()
      expect(() => respondLater!(bytes(5))).not.toThrow()
      await h.settle(timeoutMs + 4 * rtt)
      expect(o.calls).toHaveLength(1)
      expect(o.calls[0].err).not.toBeNull()
    })
  })
}
