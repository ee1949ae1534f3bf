import { open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { BackupError, openBackup, parseBackup, type BackupSite, type DeviceIdentity } from '../../api/contract.js'
import { configExists, CONFIG_FILE, prepareDataDir } from '../config.js'
import { CliError, EXIT, usageError } from '../errors.js'

/**
 * `tmtp init --role member --restore FILE`: a device made from an identity backup (docs/backup.md)
 * has the backed-up device's keys, so the same PeerId. The passphrase is asked for on the
 * terminal without echo, or read from $TMTP_BACKUP_PASSPHRASE (scripts). Neither the keys nor
 * the passphrase appear in any output or error.
 */

export const PASSPHRASE_ENV = 'TMTP_BACKUP_PASSPHRASE'

export interface Restored {
  peerId: string
  /** The sites the backup names (the backed-up device's joined sites). */
  sites: BackupSite[]
}

/** Reads a line from the terminal without echoing it. */
async function readHidden (prompt: string): Promise<string> {
  const stdin = process.stdin
  process.stderr.write(prompt)
  stdin.setRawMode(true)
  stdin.setEncoding('utf8')
  stdin.resume()
  let value: string[] = []
  return await new Promise<string>((resolve, reject) => {
    const done = (err?: Error): void => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
      if (err === undefined) resolve(value.join(''))
      else reject(err)
    }
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done()
        if (ch === '\u0003') return done(new CliError(EXIT.INTERRUPTED, 'INTERRUPTED', 'interrupted'))
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else value.push(ch)
      }
    }
    stdin.on('data', onData)
  })
}

async function passphrase (env: NodeJS.ProcessEnv): Promise<string> {
  const given = env[PASSPHRASE_ENV]
  if (given !== undefined && given !== '') return given
  if (process.stdin.isTTY !== true) throw new CliError(EXIT.USAGE, 'NO_PASSPHRASE', `the backup's passphrase is needed: run in a terminal, or set ${PASSPHRASE_ENV}`)
  return await readHidden('passphrase of the backup: ')
}

/** Writes a 32-byte key file owner-only; an existing file is never replaced. */
async function writeKey (path: string, key: Uint8Array): Promise<void> {
  let handle
  try {
    handle = await open(path, 'wx', 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw usageError(`${path} exists: restore into an empty --data folder`)
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

function backupError (err: unknown): unknown {
  return err instanceof BackupError ? new CliError(EXIT.USAGE, err.code, err.message) : err
}

/**
 * Opens the backup `file` and writes its keys into the data folder `dir`, which must not be
 * initialised; `tmtp init` then writes config.json and api.token beside them.
 */
export async function restoreIdentity (dir: string, file: string, env: NodeJS.ProcessEnv = process.env): Promise<Restored> {
  if (await configExists(dir)) throw usageError(`${dir} is already initialised (${CONFIG_FILE} exists): restore into a new --data folder`)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw usageError(`cannot read the backup ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  let identity: DeviceIdentity
  let peerId: string
  try {
    const doc = parseBackup(text)
    peerId = doc.peerId
    identity = await openBackup(doc, await passphrase(env))
  } catch (err) {
    throw backupError(err)
  }
  // the node's face on demand, as init does: its key file names and the check of the identity
  const { ENCRYPTION_FILE, IDENTITY_FILE, loadIdentity, peerIdToString } = await import('../../node/index.js')
  await prepareDataDir(dir)
  const written: string[] = []
  try {
    for (const [name, key] of [[IDENTITY_FILE, identity.ed25519], [ENCRYPTION_FILE, identity.x25519]] as const) {
      await writeKey(join(dir, name), key)
      written.push(join(dir, name))
    }
    if (peerIdToString((await loadIdentity(dir)).peerId) !== peerId) {
      throw new CliError(EXIT.USAGE, 'BAD_BACKUP', `the backup's key is not the identity it names (${peerId}): nothing was restored`)
    }
  } catch (err) {
    // half a restore is none: the keys this call wrote go
    await Promise.all(written.map(async path => { await rm(path, { force: true }) }))
    throw err
  } finally {
    identity.ed25519.fill(0)
    identity.x25519.fill(0)
  }
  return { peerId, sites: identity.sites }
}

/** What init tells the member after a restore: the node does not rejoin the backed-up sites by itself (yet), so they are named. */
export function restoredNote (restored: Restored): string {
  const sites = restored.sites.map(s => `${s.name !== '' ? `"${s.name}" ` : ''}${s.peerId}${s.left !== undefined ? ' (left)' : ''}`)
  return `restored identity ${restored.peerId}; the backup names ${sites.length} site(s)${sites.length > 0 ? `: ${sites.join(', ')}` : ''}`
}
