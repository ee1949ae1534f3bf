import { sha256 } from '@noble/hashes/sha2.js'
import { Level } from 'level'
import { ErrorCode, TmtpError } from '../protocol/index.js'
import { NodeError } from '../util/index.js'
import type { AttachmentFiles, WholeFile } from './attachment-files.js'

/** The store of a tab's fetched attachments, beside its database (`<dataDir>/db`) and keys (`<dataDir>/keys`). */
export const ATTACHMENT_STORE = 'attachments'

/** Offsets in keys: fixed-width hex, so that keys sort as the offsets do (2^56 bytes and more). */
const OFFSET_DIGITS = 14

/** The names MemberAttachments gives (`<site>-<message id>-<index>`): no `!`, which ends a name in a key. */
const NAME = /^[\w.-]+$/

const encoder = new TextEncoder()
const decoder = new TextDecoder()

function checkName (name: string): void {
  if (!NAME.test(name)) throw new NodeError('INVALID_ARGUMENT', `${JSON.stringify(name)} is not an attachment's name`)
}

const pieceKey = (name: string, offset: number): string => `p!${name}!${offset.toString(16).padStart(OFFSET_DIGITS, '0')}`
/** Every piece of a file: hex digits sort below `~`. */
const pieces = (name: string): { gte: string, lt: string } => ({ gte: `p!${name}!`, lt: `p!${name}!~` })
const wholeKey = (name: string): string => `w!${name}`
const offsetOf = (key: string): number => parseInt(key.slice(key.lastIndexOf('!') + 1), 16)

interface Piece {
  offset: number
  bytes: Uint8Array
}

const endOf = (piece: Piece | undefined): number => piece === undefined ? 0 : piece.offset + piece.bytes.byteLength

/**
 * A write to the store, whose failure is STORAGE_FAILURE (the origin's quota is full, the
 * browser refused or dropped IndexedDB): the fetch is tried again, then given up with that
 * code, not taken for an unreachable site.
 */
async function kept (name: string, write: () => Promise<void>): Promise<void> {
  try {
    await write()
  } catch (err) {
    throw new TmtpError(ErrorCode.STORAGE_FAILURE, `cannot keep attachment ${name}${err instanceof Error ? `: ${err.message}` : ''}`, { cause: err })
  }
}

/**
 * A browser tab: the attachments a member device fetched, in the tab's IndexedDB (through
 * `level`, browser-level there, as the tab's database and keys), a store of their own:
 *
 *   p!<name>!<offset, 14 hex digits>   a piece of the file: the bytes appended at that offset (a chunk)
 *   w!<name>                           the file is whole and checked: its size, decimal
 *
 * Each chunk is appended as a record of its own, in an IndexedDB transaction that has
 * committed before the next chunk is fetched: a reload or a crash of the tab loses at most
 * the chunk in flight, and the fetch resumes from the pieces held (partSize). Cutting the
 * partial file back (openPart) deletes pieces in one transaction; the file becomes whole by
 * one write of its marker, and goes (remove) with its marker in one transaction. Commits
 * have the browser's default durability, as the tab's database has: an attachment is kept
 * as surely as the message that lists it.
 *
 * Why IndexedDB and not the origin private file system (OPFS), in Chromium as elsewhere: the
 * node runs on the page's own thread, where OPFS writes only through createWritable(),
 * whose writes go to a copy of the file that replaces it when the stream is closed (Chromium
 * copies the whole file into it on opening with keepExistingData). A chunk would be kept only
 * once the stream closed: keeping each would copy the file again per chunk, and a reload
 * mid-fetch would lose all since the last close. Durable writes in place (sync access
 * handles, flush()) exist in dedicated workers only. IndexedDB also holds the rest of the
 * device, under the same quota and eviction: the tab's data goes or stays as one.
 *
 * A whole file is read into memory to make its Blob (at most the site's maxAttachmentBytes,
 * 25 MiB by default).
 */
export async function attachmentFiles (dataDir: string): Promise<AttachmentFiles> {
  const db = new Level<string, Uint8Array>(`${dataDir}/${ATTACHMENT_STORE}`, { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()

  /** The last piece of the file, or the last before `before`. */
  async function lastPiece (name: string, before?: number): Promise<Piece | undefined> {
    const range = pieces(name)
    const [entry] = await db.iterator({ gte: range.gte, lt: before === undefined ? range.lt : pieceKey(name, before), reverse: true, limit: 1 }).all()
    return entry === undefined ? undefined : { offset: offsetOf(entry[0]), bytes: entry[1] }
  }

  async function isWhole (name: string): Promise<boolean> {
    return await db.get(wholeKey(name)) !== undefined
  }

  return {
    async partSize (name) {
      checkName(name)
      // made whole, the partial file is no more: as a file renamed
      return await isWhole(name) ? 0 : endOf(await lastPiece(name))
    },
    async openPart (name, offset) {
      checkName(name)
      if (!Number.isSafeInteger(offset) || offset < 0) throw new NodeError('INVALID_ARGUMENT', `no offset ${offset}`)
      if (await isWhole(name)) throw new NodeError('INVALID_ARGUMENT', `attachment ${name} is whole: remove it before fetching it again`)
      const cut: Array<{ type: 'del', key: string } | { type: 'put', key: string, value: Uint8Array }> = (await db.keys({ gte: pieceKey(name, offset), lt: pieces(name).lt }).all()).map(key => ({ type: 'del', key }))
      const before = await lastPiece(name, offset)
      const reached = endOf(before)
      if (before !== undefined && reached > offset) cut.push({ type: 'put', key: pieceKey(name, before.offset), value: before.bytes.slice(0, offset - before.offset) })
      // past the end: zeros up to it, as a file truncated to a greater length
      else if (reached < offset) cut.push({ type: 'put', key: pieceKey(name, reached), value: new Uint8Array(offset - reached) })
      if (cut.length > 0) await kept(name, async () => { await db.batch(cut) })
      let position = offset
      return {
        async append (bytes) {
          if (bytes.byteLength === 0) return
          // a copy: IndexedDB would store the whole buffer a view is part of
          const piece = bytes.slice()
          await kept(name, async () => { await db.put(pieceKey(name, position), piece) })
          position += bytes.byteLength
        },
        // every append has committed already
        async close () {}
      }
    },
    async hashPart (name) {
      checkName(name)
      const hash = sha256.create()
      for await (const bytes of db.values(pieces(name))) hash.update(bytes)
      return hash.digest()
    },
    async complete (name) {
      checkName(name)
      const size = endOf(await lastPiece(name))
      await kept(name, async () => { await db.put(wholeKey(name), encoder.encode(String(size))) })
    },
    async remove (name) {
      checkName(name)
      const keys = await db.keys(pieces(name)).all()
      await db.batch([...keys, wholeKey(name)].map(key => ({ type: 'del' as const, key })))
    },
    async whole (name): Promise<WholeFile | undefined> {
      checkName(name)
      const marker = await db.get(wholeKey(name))
      if (marker === undefined) return undefined
      const size = Number(decoder.decode(marker))
      return {
        async blob (type) {
          const parts: Uint8Array[] = []
          let held = 0
          for await (const bytes of db.values(pieces(name))) {
            parts.push(bytes)
            held += bytes.byteLength
          }
          // removed meanwhile (its message deleted): not a file cut short
          if (held !== size) throw new NodeError('UNKNOWN_ATTACHMENT', `attachment ${name} was deleted`)
          return new Blob(parts as Array<Uint8Array<ArrayBuffer>>, { type })
        }
      }
    },
    close: async () => { await db.close() }
  }
}
