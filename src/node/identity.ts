import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Ed25519Signer, x25519FromPrivateKey, type DeviceIdentity, type X25519KeyPair } from '../crypto/index.js'
import { NodeError } from '../util/index.js'

/** File names inside a node's data folder. */
export const IDENTITY_FILE = 'identity.key'
export const ENCRYPTION_FILE = 'encryption.key'
export const DATABASE_DIR = 'db'

/**
 * Reads a 32-byte secret key file, or creates it with fresh random bytes, owner-only
 * (0600, in a 0700 folder). A key file that others may read is refused, as ssh does.
 */
async function loadOrCreateKey (dataDir: string, name: string): Promise<Uint8Array> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const path = join(dataDir, name)
  try {
    const info = await stat(path)
    if ((info.mode & 0o077) !== 0) {
      throw new NodeError('IDENTITY_UNSAFE', `${path} is readable by others: chmod 600 it`)
    }
    const bytes = await readFile(path)
    if (bytes.byteLength !== 32) throw new NodeError('IDENTITY_UNSAFE', `${path} is not a 32-byte key file`)
    return new Uint8Array(bytes)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const key = new Uint8Array(randomBytes(32))
  // write beside, then rename: a crash never leaves a half-written key behind
  const tmp = `${path}.${process.pid}.tmp`
  const handle = await open(tmp, 'wx', 0o600)
  try {
    await handle.writeFile(key)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(tmp, path)
  return key
}

export async function loadIdentity (dataDir: string): Promise<Ed25519Signer> {
  return new Ed25519Signer(await loadOrCreateKey(dataDir, IDENTITY_FILE))
}

export async function loadEncryptionKey (dataDir: string): Promise<X25519KeyPair> {
  return x25519FromPrivateKey(await loadOrCreateKey(dataDir, ENCRYPTION_FILE))
}

/** Writes a key file owner-only, never over an existing one (INVALID_ARGUMENT): what it wrote goes if the write fails. */
async function writeNewKey (path: string, key: Uint8Array): Promise<void> {
  let handle
  try {
    handle = await open(path, 'wx', 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new NodeError('INVALID_ARGUMENT', `${path} exists: restore into a new data folder`)
    throw err
  }
  try {
    await handle.writeFile(key)
    await handle.sync()
  } catch (err) {
    await handle.close()
    await rm(path, { force: true })
    throw err
  }
  await handle.close()
}

/**
 * A member device's keys from a backup, written as identity.key and encryption.key into a
 * data folder (0700) that has neither; resolves with what removes them again. Half a restore
 * is none: a key written before a failure goes.
 */
export async function restoreKeys (dataDir: string, keys: Pick<DeviceIdentity, 'ed25519' | 'x25519'>): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const written: string[] = []
  const undo = async (): Promise<void> => { await Promise.all(written.map(async path => { await rm(path, { force: true }) })) }
  try {
    for (const [name, key] of [[IDENTITY_FILE, keys.ed25519], [ENCRYPTION_FILE, keys.x25519]] as const) {
      await writeNewKey(join(dataDir, name), key)
      written.push(join(dataDir, name))
    }
  } catch (err) {
    await undo()
    throw err
  }
  return undo
}
