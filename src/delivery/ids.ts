import { fromString as uint8ArrayFromString } from 'uint8arrays'
import { randomBytes } from '../crypto/index.js'
import { MESSAGE_ID_BYTES } from '../protocol/index.js'
import { NodeError } from '../util/index.js'

const POOL_IDS = 256
let pool = new Uint8Array(0)
let offset = 0

/**
 * A new random message id (spec: "Envelopes"). Taken from a pool refilled from the CSPRNG
 * every 256 ids: one system call per id cost more than sealing the message.
 */
export function newMessageId (): Uint8Array<ArrayBuffer> {
  if (offset >= pool.byteLength) {
    pool = randomBytes(POOL_IDS * MESSAGE_ID_BYTES)
    offset = 0
  }
  // a copy: ids outlive the pool's next refill
  const id = pool.slice(offset, offset + MESSAGE_ID_BYTES)
  offset += MESSAGE_ID_BYTES
  return id
}

/** An optional message id given as 32 hex digits (API input); empty when absent. */
export function messageIdFromHex (hex: string | undefined, what: string): Uint8Array<ArrayBuffer> {
  if (hex === undefined || hex === '') return new Uint8Array(0)
  if (typeof hex !== 'string' || !/^[0-9a-f]{32}$/.test(hex)) throw new NodeError('INVALID_ARGUMENT', `${what} must be a message id (32 hex digits)`)
  return uint8ArrayFromString(hex, 'base16') as Uint8Array<ArrayBuffer>
}
