import { cursorOfKey, keyOfCursor } from './cursor.js'

/*
 * A replies cursor: the store key of a reply as a page cursor (cursor.ts). Today's are 140
 * characters, within MAX_CURSOR_LENGTH: a reply's key names its device, since ids are per sender.
 */

/** rp:<received>:<id>:<device>, or rp:<received>:<id> as older nodes wrote it. */
const REPLY_KEY = /^rp:[0-9]{16}:[0-9a-f]{32}(:[1-9A-HJ-NP-Za-km-z]{1,128})?$/

export function cursorOfReplyKey (key: string): string {
  return cursorOfKey(key)
}

/** The store key a replies cursor stands for; INVALID_ARGUMENT when it is not one this store made. */
export function replyKeyFromCursor (cursor: string): string {
  return keyOfCursor(cursor, k => REPLY_KEY.test(k), 'replies')
}
