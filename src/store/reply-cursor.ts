import { fromString as uint8ArrayFromString, toString as uint8ArrayToString } from 'uint8arrays'
import { NodeError } from '../util/node-error.js'

/**
 * A replies cursor: the store key of a reply, base64url, opaque to callers. Today's are 140
 * characters (a reply's key names its device, since ids are per sender); the API takes this
 * bound from here.
 */
export const MAX_REPLY_CURSOR_LENGTH = 256

/** rp:<received>:<id>:<device>, or rp:<received>:<id> as older nodes wrote it. */
const REPLY_KEY = /^rp:[0-9]{16}:[0-9a-f]{32}(:[1-9A-HJ-NP-Za-km-z]{1,128})?$/

export function cursorOfReplyKey (key: string): string {
  return uint8ArrayToString(uint8ArrayFromString(key), 'base64url')
}

/** The store key a replies cursor stands for; INVALID_ARGUMENT when it is not one this store made. */
export function replyKeyFromCursor (cursor: string): string {
  let k = ''
  try {
    if (typeof cursor === 'string' && cursor.length <= MAX_REPLY_CURSOR_LENGTH && /^[A-Za-z0-9_-]+$/.test(cursor)) k = uint8ArrayToString(uint8ArrayFromString(cursor, 'base64url'))
  } catch {
    // not base64url: refused below like any other cursor this store did not make
  }
  if (!REPLY_KEY.test(k)) throw new NodeError('INVALID_ARGUMENT', 'not a replies cursor')
  return k
}
