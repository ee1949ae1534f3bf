import { createHash } from 'node:crypto'
import { createReadStream, openAsBlob } from 'node:fs'
import { mkdir, open, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { AttachmentFiles } from './attachment-files.js'

/** A member's folder of fetched attachments, in its data folder (owner-only, as the rest of it). */
export const ATTACHMENT_DIR = 'attachments'

async function sizeOf (path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Node.js: one file per attachment in <data>/attachments, `<name>.part` while it is fetched. */
export async function attachmentFiles (dataDir: string): Promise<AttachmentFiles> {
  const dir = join(dataDir, ATTACHMENT_DIR)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const path = (name: string): string => join(dir, name)
  const part = (name: string): string => `${path(name)}.part`
  return {
    partSize: async name => await sizeOf(part(name)) ?? 0,
    async openPart (name, offset) {
      // append mode: every write lands at the end, which the truncation put at `offset`
      const file = await open(part(name), 'a', 0o600)
      await file.truncate(offset)
      return {
        async append (bytes) {
          await file.write(bytes)
        },
        async close () {
          try {
            await file.sync()
          } finally {
            await file.close()
          }
        }
      }
    },
    async hashPart (name) {
      const hash = createHash('sha256')
      for await (const piece of createReadStream(part(name))) hash.update(piece as Buffer)
      return Uint8Array.from(hash.digest())
    },
    complete: async name => { await rename(part(name), path(name)) },
    async remove (name) {
      await rm(path(name), { force: true })
      await rm(part(name), { force: true })
    },
    async whole (name) {
      const where = path(name)
      if (await sizeOf(where) === undefined) return undefined
      // a Blob backed by the file: read from disk as it is consumed
      return { path: where, blob: async type => await openAsBlob(where, { type }) }
    }
  }
}
