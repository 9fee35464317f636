/**
 * Value codecs: values are bytes on the wire and in the stores; a namespace handle turns them into what
 * the application uses. `bytesCodec` (the default) passes `Uint8Array`s through, `stringCodec` is UTF-8,
 * `jsonCodec` is JSON in UTF-8. A value that cannot be encoded (a JSON cycle, a lone surrogate) throws
 * at the call, before anything is sent; bytes that cannot be decoded throw `InvalidValueError`.
 */
import { MeshcacheError } from '../errors.js'

export interface ValueCodec<T> {
  readonly name: string
  encode(value: T): Uint8Array
  decode(bytes: Uint8Array): T
}

/** A value could not be encoded, or stored bytes could not be decoded, by the namespace's codec. */
export class InvalidValueError extends MeshcacheError {
  constructor (message: string) { super('ERR_INVALID_VALUE', message) }
}

const encoder = new TextEncoder()
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export const bytesCodec: ValueCodec<Uint8Array> = Object.freeze({
  name: 'bytes',
  encode (value: Uint8Array): Uint8Array {
    if (!(value instanceof Uint8Array)) throw new InvalidValueError(`the bytes codec takes Uint8Array values, got ${typeof value}; use stringCodec or jsonCodec for other values`)
    return value
  },
  decode: (bytes: Uint8Array): Uint8Array => bytes
})

export const stringCodec: ValueCodec<string> = Object.freeze({
  name: 'string',
  encode (value: string): Uint8Array {
    if (typeof value !== 'string') throw new InvalidValueError(`the string codec takes strings, got ${typeof value}`)
    if (!value.isWellFormed()) throw new InvalidValueError('the string is not well-formed UTF-16 (it has a lone surrogate)')
    return encoder.encode(value)
  },
  decode (bytes: Uint8Array): string {
    try { return strictDecoder.decode(bytes) } catch { throw new InvalidValueError('the stored value is not valid UTF-8') }
  }
})

export const jsonCodec: ValueCodec<unknown> = Object.freeze({
  name: 'json',
  encode (value: unknown): Uint8Array {
    let text: string | undefined
    try { text = JSON.stringify(value) } catch (err) { throw new InvalidValueError(`the value cannot be encoded as JSON: ${(err as Error).message}`) }
    if (text === undefined) throw new InvalidValueError(`the value cannot be encoded as JSON (${typeof value})`)
    return encoder.encode(text)
  },
  decode (bytes: Uint8Array): unknown {
    try { return JSON.parse(strictDecoder.decode(bytes)) } catch { throw new InvalidValueError('the stored value is not valid JSON') }
  }
})
