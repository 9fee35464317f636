/** Small processes for simulator tests: they record what they see, so tests assert on behaviour. */
import type { HostContext, HostProcess, Simulator } from '../../src/sim/index.js'

export interface Inbox {
  /** [true virtual time since the start, from, first payload byte] of every message handled. */
  messages: Array<[number, string, number]>
  ctx: HostContext
  stopped: boolean
}

/** Adds a host that records every message it handles and echoes requests. Returns its live inbox. */
export function addRecorder (sim: Simulator, address: string): { current: () => Inbox, all: Inbox[] } {
  const all: Inbox[] = []
  sim.addHost(address, (ctx): HostProcess => {
    const inbox: Inbox = { messages: [], ctx, stopped: false }
    all.push(inbox)
    ctx.transport.setHandlers({
      onMessage (from, payload) { inbox.messages.push([sim.elapsed(), from, payload[0] ?? -1]) },
      onRequest (_from, payload, respond) { respond(payload) }
    })
    return { stop () { inbox.stopped = true } }
  })
  return { current: () => all[all.length - 1], all }
}

export function byte (v: number): Uint8Array { return Uint8Array.of(v) }
