import { createHash } from 'node:crypto'
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { blobKey, chunkCount, chunkLength, newContentKey, sealChunk, sealedChunkLength } from '../crypto/index.js'
import { BLOB_CHUNK_BYTES } from '../protocol/index.js'
import { NodeError } from '../util/index.js'

/** The site's folder of sealed blobs, in its data folder (owner-only, as the rest of it). */
export const BLOB_DIR = 'blobs'

/** A file as the site took it in: sealed once under `key` (spec 15.6). */
export interface TakenFile {
  size: number
  sha256: Uint8Array
  key: Uint8Array
}

/** What sealing adds to a chunk (its tag). */
const TAG_BYTES = 16

/** The sealed length of every chunk but the last: where chunk i starts in a blob's file. */
const SEALED_CHUNK_BYTES = BLOB_CHUNK_BYTES + TAG_BYTES

/** The length of a blob's file: the file's bytes and a tag per chunk. */
function sealedLength (size: number): number {
  return size + chunkCount(size) * TAG_BYTES
}

/**
 * The sealed chunks of each blob, concatenated in one file named by the blob's id: a chunk is
 * read where it lies, so a device resuming from chunk n costs no more than reading from n. A
 * file is written as <id>.part and renamed once complete and synced; a .part left by a crash
 * is deleted when the folder is opened.
 *
 * The folder holds at most `maxBytes`: its files' bytes are counted when it is opened, a
 * file's sealed length is reserved before a byte of it is taken in (ATTACHMENT_STORE_FULL if it
 * does not fit) and given back when it is removed.
 */
export class BlobFiles {
  private readonly dir: string
  private readonly maxBytes: number
  /** Bytes of the files held and of those being taken in. */
  private held: number

  private constructor (dir: string, maxBytes: number, held: number) {
    this.dir = dir
    this.maxBytes = maxBytes
    this.held = held
  }

  static async open (dataDir: string, maxBytes: number): Promise<BlobFiles> {
    const dir = join(dataDir, BLOB_DIR)
    await mkdir(dir, { recursive: true, mode: 0o700 })
    let held = 0
    for (const name of await readdir(dir)) {
      if (name.endsWith('.part')) await rm(join(dir, name), { force: true })
      else held += (await stat(join(dir, name))).size
    }
    return new BlobFiles(dir, maxBytes, held)
  }

  private path (id: string): string {
    return join(this.dir, id)
  }

  /**
   * Seals a file of `size` bytes from `source` under a new content key, chunk by chunk as it
   * arrives (nothing but the chunk being filled is held in memory), with its SHA-256.
   * INVALID_ARGUMENT if the source holds more or fewer bytes than `size`; ATTACHMENT_STORE_FULL,
   * before a byte is read, if the folder has no room for it.
   */
  async take (id: string, size: number, source: AsyncIterable<Uint8Array>): Promise<TakenFile> {
    const length = sealedLength(size)
    if (this.held + length > this.maxBytes) {
      throw new NodeError('ATTACHMENT_STORE_FULL', `the site holds ${this.held} bytes of attachments, and may hold ${this.maxBytes} (maxStoredAttachmentBytes): try again once some are deleted`)
    }
    this.held += length
    try {
      return await this.seal(id, size, source)
    } catch (err) {
      this.held -= length
      throw err
    }
  }

  private async seal (id: string, size: number, source: AsyncIterable<Uint8Array>): Promise<TakenFile> {
    const contentKey = newContentKey()
    const key = blobKey(contentKey, size)
    const hash = createHash('sha256')
    const part = `${this.path(id)}.part`
    const file = await open(part, 'wx', 0o600)
    let complete = false
    try {
      const buffer = new Uint8Array(BLOB_CHUNK_BYTES)
      let filled = 0
      let index = 0
      let position = 0
      const seal = async (): Promise<void> => {
        const sealed = sealChunk(key, index, buffer.subarray(0, filled))
        await file.write(sealed, 0, sealed.byteLength, position)
        position += sealed.byteLength
        index++
        filled = 0
      }
      for await (const piece of source) {
        hash.update(piece)
        let offset = 0
        while (offset < piece.byteLength) {
          if (index >= chunkCount(size)) throw new NodeError('INVALID_ARGUMENT', `the body holds more than its ${size} bytes`)
          const want = chunkLength(size, index) - filled
          const take = Math.min(want, piece.byteLength - offset)
          buffer.set(piece.subarray(offset, offset + take), filled)
          filled += take
          offset += take
          if (filled === chunkLength(size, index)) await seal()
        }
      }
      if (index !== chunkCount(size)) throw new NodeError('INVALID_ARGUMENT', `the body ended before its ${size} bytes`)
      await file.sync()
      complete = true
    } finally {
      await file.close()
      if (!complete) await rm(part, { force: true })
    }
    await rename(part, this.path(id))
    return { size, sha256: Uint8Array.from(hash.digest()), key: contentKey }
  }

  /** The sealed chunks of a blob of `size` bytes, from chunk `first` on, read one at a time. */
  async * chunks (id: string, size: number, first: number): AsyncGenerator<{ index: number, sealed: Uint8Array<ArrayBuffer> }> {
    let file: FileHandle
    try {
      file = await open(this.path(id), 'r')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    try {
      for (let index = first; index < chunkCount(size); index++) {
        const sealed = new Uint8Array(sealedChunkLength(size, index))
        const { bytesRead } = await file.read(sealed, 0, sealed.byteLength, index * SEALED_CHUNK_BYTES)
        if (bytesRead !== sealed.byteLength) throw new Error(`blob ${id} is shorter than its ${size} bytes`)
        yield { index, sealed }
      }
    } finally {
      await file.close()
    }
  }

  /** Deletes a blob's file (if it has one), and counts its bytes free. */
  async remove (id: string): Promise<void> {
    const path = this.path(id)
    let size: number
    try {
      size = (await stat(path)).size
      // of two removals at once, the one that unlinks the file gives its bytes back
      await unlink(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    this.held -= size
  }

  /** The ids of the blobs that have a file. */
  async ids (): Promise<string[]> {
    return (await readdir(this.dir)).filter(name => !name.endsWith('.part'))
  }
}
