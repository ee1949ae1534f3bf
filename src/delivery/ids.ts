import { fromString as uint8ArrayFromString } from 'uint8arrays'
import { NodeError } from './errors.js'

/** An optional message id given as 32 hex digits (API input); empty when absent. */
export function messageIdFromHex (hex: string | undefined, what: string): Uint8Array<ArrayBuffer> {
  if (hex === undefined || hex === '') return new Uint8Array(0)
  if (typeof hex !== 'string' || !/^[0-9a-f]{32}$/.test(hex)) throw new NodeError('INVALID_ARGUMENT', `${what} must be a message id (32 hex digits)`)
  return uint8ArrayFromString(hex, 'base16') as Uint8Array<ArrayBuffer>
}
