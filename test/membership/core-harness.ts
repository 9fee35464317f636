/**
 * A tiny deterministic harness for the pure membership core: a few `Swim` cores, virtual time, and a
 * network that carries their effects (encoded and decoded through the real wire format) with a latency
 * per link. Crashed members neither send nor receive; reliable requests to them fail. No driver involved:
 * this is what lets the core tests feed exact inputs and read exact effects.
 */
import { SeededRandom } from '../../src/env/random.js'
import { Swim } from '../../src/membership/swim.js'
import type { SwimInit } from '../../src/membership/swim.js'
import type { MemberEvent, SwimEffect } from '../../src/membership/types.js'
import {
  decodeMembershipMessage, encodeDatagram, encodePushPull
} from '../../src/wire/membership.js'
import type { AckMessage, DatagramMessage, PingMessage, PushPullReply, PushPullRequest } from '../../src/wire/membership.js'

export interface Sent { at: number, from: string, to: string, message: DatagramMessage, bytes: number }

type Delivery = { at: number, seq: number, run: () => void }

export class CoreCluster {
  now = 1_000_000
  readonly cores = new Map<string, Swim>()
  readonly down = new Set<string>()
  readonly events: Array<{ at: string, e: MemberEvent }> = []
  readonly sent: Sent[] = []
  /** One-way latency per directed link `from>to`, in ms (default 1). */
  readonly latency = new Map<string, number>()
  /** Lag to report to a core's `reportLag` every time it ticks (a peer whose event loop is slow). */
  readonly lag = new Map<string, number>()
  maxDatagramBytes = 1400
  #queue: Delivery[] = []
  #seq = 0
  readonly #random = new SeededRandom(7)

  add (id: string, options: Partial<SwimInit> = {}): Swim {
    const core = new Swim({ id, address: id, random: this.#random.fork(id + ':' + String(this.#seq++)), maxDatagramBytes: this.maxDatagramBytes, ...options })
    this.cores.set(id, core)
    this.down.delete(id)
    core.start(this.now)
    this.flush(id)
    return core
  }

  /** Starts `ids` and has each join through the first. */
  mesh (ids: string[], options: Partial<SwimInit> = {}): void {
    for (const id of ids) this.add(id, options)
    for (const id of ids.slice(1)) { this.cores.get(id)!.join([ids[0]], this.now); this.flush(id) }
  }

  crash (id: string): void { this.down.add(id); this.cores.get(id)?.stop() }

  /** Feeds a datagram to a core as if `from` had sent it. */
  inject (to: string, from: string, message: DatagramMessage): void {
    this.cores.get(to)!.handleDatagram(from, message, this.now)
    this.flush(to)
  }

  run (ms: number): void {
    const end = this.now + ms
    for (;;) {
      let next = Infinity
      let who: string | undefined
      for (const [id, c] of this.cores) {
        if (this.down.has(id)) continue
        const d = c.nextDeadlineMs()
        if (d !== undefined && d < next) { next = d; who = id }
      }
      const q = this.#queue[0]
      if (q !== undefined && q.at <= next) {
        if (q.at > end) break
        this.#queue.shift()
        this.now = Math.max(this.now, q.at)
        q.run()
        continue
      }
      if (who === undefined || next > end) break
      this.now = Math.max(this.now, next)
      const core = this.cores.get(who)!
      const lag = this.lag.get(who)
      if (lag !== undefined) core.reportLag(lag, this.now)
      core.tick(this.now)
      this.flush(who)
    }
    this.now = end
  }

  /** Carries out a core's pending effects. */
  flush (id: string): void {
    const core = this.cores.get(id)!
    for (const e of core.takeEffects()) this.#apply(id, e)
  }

  eventsOf (type: MemberEvent['type'], about?: string): Array<{ at: string, e: MemberEvent }> {
    return this.events.filter(({ e }) => e.type === type && (about === undefined || e.member.id === about))
  }

  stateOf (viewer: string, id: string): string | undefined { return this.cores.get(viewer)!.member(id)?.state }

  #apply (from: string, e: SwimEffect): void {
    if (e.kind === 'event') { this.events.push({ at: from, e: e.event }); return }
    if (this.down.has(from)) return
    const delay = this.latency.get(`${from}>${e.to}`) ?? 1
    if (e.kind === 'send') {
      const bytes = encodeDatagram(e.message, this.maxDatagramBytes)
      const message = decodeMembershipMessage(bytes) as DatagramMessage
      this.sent.push({ at: this.now, from, to: e.to, message, bytes: bytes.byteLength })
      this.#deliver(this.now + delay, () => {
        const target = this.cores.get(e.to)
        if (target === undefined || this.down.has(e.to)) return
        target.handleDatagram(from, message, this.now)
        this.flush(e.to)
      })
      return
    }
    // reliable request: a reply after a round trip, or an error
    const payload = e.message.type === 'push-pull-request' ? encodePushPull(e.message) : encodeDatagram(e.message)
    const request = decodeMembershipMessage(payload) as PushPullRequest | PingMessage
    const back = this.latency.get(`${e.to}>${from}`) ?? 1
    this.#deliver(this.now + delay, () => {
      const target = this.cores.get(e.to)
      if (target === undefined || this.down.has(e.to)) {
        this.#deliver(this.now + back, () => this.#result(from, e.requestId, undefined, 'unreachable'))
        return
      }
      const reply = target.handleRequest(from, request, this.now)
      this.flush(e.to)
      if (reply === undefined) return
      const bytes = reply.type === 'push-pull-reply' ? encodePushPull(reply) : encodeDatagram(reply)
      const decoded = decodeMembershipMessage(bytes) as PushPullReply | AckMessage
      this.#deliver(this.now + back, () => this.#result(from, e.requestId, decoded, undefined))
    })
  }

  #result (id: string, requestId: number, reply: PushPullReply | AckMessage | undefined, error: string | undefined): void {
    const core = this.cores.get(id)
    if (core === undefined || this.down.has(id)) return
    core.handleRequestResult(requestId, reply, error, this.now)
    this.flush(id)
  }

  #deliver (at: number, run: () => void): void {
    const d = { at, seq: this.#seq++, run }
    let i = this.#queue.length
    while (i > 0 && (this.#queue[i - 1].at > at || (this.#queue[i - 1].at === at && this.#queue[i - 1].seq > d.seq))) i--
    this.#queue.splice(i, 0, d)
  }
}
