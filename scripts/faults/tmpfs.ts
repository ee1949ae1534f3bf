import { execFile } from 'node:child_process'
import { mkdir, open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

/**
 * Small tmpfs mounts that make a data folder fill up for real: LevelDB then gets ENOSPC
 * from the kernel, as on a full disk (root ignores a read-only chmod, so that would not do).
 * Mounting needs root (or CAP_SYS_ADMIN).
 */

const run = promisify(execFile)
const FILLER = '.fault-filler'
const CHUNKS = [1024 * 1024, 4096, 64]

export type MountErrorCode = 'MOUNT_NOT_PERMITTED' | 'MOUNT_FAILED'

export class MountError extends Error {
  override readonly name = 'MountError'

  constructor (readonly code: MountErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** Mounts a tmpfs of `bytes` on dir (created if needed). */
export async function mountTmpfs (dir: string, bytes: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir])
  } catch (err) {
    const { code, stderr } = err as { code?: unknown, stderr?: string }
    const text = `${stderr ?? ''} ${(err as Error).message}`
    const denied = code === 'ENOENT' || /permission denied|not permitted|must be superuser|EPERM/i.test(text)
    throw new MountError(denied ? 'MOUNT_NOT_PERMITTED' : 'MOUNT_FAILED', `cannot mount a tmpfs on ${dir}: ${text.trim()}`, { cause: err })
  }
}

/** Unmounts dir; a mount still busy is detached lazily, so that no mount outlives the run. */
export async function unmount (dir: string): Promise<void> {
  try {
    await run('umount', [dir])
  } catch {
    await run('umount', ['-l', dir])
  }
}

/** Why a tmpfs cannot be mounted here, or undefined when it can (a mount and unmount of a probe). */
export async function tmpfsUnavailable (dir: string): Promise<string | undefined> {
  try {
    await mountTmpfs(dir, 64 * 1024)
  } catch (err) {
    if (err instanceof MountError && err.code === 'MOUNT_NOT_PERMITTED') return err.message
    throw err
  }
  await unmount(dir)
  await rm(dir, { recursive: true, force: true })
  return undefined
}

/** Fills the file system of dir to the last byte with a filler file; returns its size. */
export async function fill (dir: string): Promise<number> {
  const file = await open(join(dir, FILLER), 'a')
  let size = 0
  try {
    for (const chunk of CHUNKS) {
      const bytes = Buffer.alloc(chunk)
      for (;;) {
        try {
          size += (await file.write(bytes)).bytesWritten
        } catch (err) {
          if ((err as { code?: string }).code === 'ENOSPC') break
          throw err
        }
      }
    }
  } finally {
    await file.close()
  }
  return size
}

/** Frees what fill() took. */
export async function unfill (dir: string): Promise<void> {
  await rm(join(dir, FILLER), { force: true })
}
