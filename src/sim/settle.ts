/**
 * Driving promise-based code on the simulator. The simulator runs events synchronously, and promise
 * continuations run only when the JavaScript stack is empty, so `await peer.namespace('x').get(k)` would
 * never see its answer while `sim.runFor` holds the stack. `runUntilSettled` alternates: a short slice of
 * virtual time, then a yield to the event loop so continuations run, until the promise settles.
 * Deterministic (the same slices every run); an answer is seen at most `stepMs` of virtual time late.
 */
import { InvalidOptionError } from '../errors.js'
import type { Simulator } from './simulator.js'

export interface SettleOptions {
  /** Give up after this much virtual time, in ms. @default 60000 */
  maxMs?: number
  /** Virtual time per slice, in ms. @default 10 */
  stepMs?: number
}

/** Runs the simulator until `promise` settles; resolves or rejects like it. Rejects after `maxMs`. */
export async function runUntilSettled<T> (sim: Simulator, promise: Promise<T>, options: SettleOptions = {}): Promise<T> {
  const maxMs = options.maxMs ?? 60_000
  const stepMs = options.stepMs ?? 10
  if (!(stepMs > 0) || !(maxMs >= 0)) throw new InvalidOptionError('runUntilSettled: stepMs must be > 0 and maxMs >= 0')
  let settled = false
  promise.then(() => { settled = true }, () => { settled = true })
  const end = sim.now() + maxMs
  await new Promise<void>((resolve) => setImmediate(resolve))
  while (!settled && sim.now() < end) {
    sim.runFor(Math.min(stepMs, end - sim.now()))
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
  if (!settled) throw new Error(`runUntilSettled: the promise did not settle within ${maxMs} ms of virtual time`)
  return await promise
}
