import { fromString as uint8ArrayFromString, toString as uint8ArrayToString } from 'uint8arrays'
import { NodeError } from '../util/node-error.js'

/**
 * A page cursor (replies, groups, a group's members): the store key of the last entry of a
 * page, base64url, opaque to callers. The API takes its bound from here.
 */
export const MAX_CURSOR_LENGTH = 256

export function cursorOfKey (key: string): string {
  return uint8ArrayToString(uint8ArrayFromString(key), 'base64url')
}

/** The store key a cursor stands for; INVALID_ARGUMENT unless it is a key `valid` accepts (one this store made). */
export function keyOfCursor (cursor: string, valid: (key: string) => boolean, what: string): string {
  let k = ''
  try {
    if (typeof cursor === 'string' && cursor.length <= MAX_CURSOR_LENGTH && /^[A-Za-z0-9_-]+$/.test(cursor)) k = uint8ArrayToString(uint8ArrayFromString(cursor, 'base64url'))
  } catch {
    // not base64url: refused below like any other cursor this store did not make
  }
  if (!valid(k)) throw new NodeError('INVALID_ARGUMENT', `not a ${what} cursor`)
  return k
}
