import { readFile } from 'node:fs/promises'
import type { BackupSite, DeviceIdentity } from '../../crypto/backup.js'
import { configExists, CONFIG_FILE, prepareDataDir } from '../config.js'
import { CliError, EXIT, usageError } from '../errors.js'

/**
 * `tmtp init --role member --restore FILE`: a device made from an identity backup (docs/backup.md)
 * has the backed-up device's keys, so the same PeerId, and its sites, which it reconnects to
 * when it starts. The passphrase is asked for on the terminal without echo, or read from
 * $TMTP_BACKUP_PASSPHRASE (scripts). Neither the keys nor the passphrase appear in any output
 * or error.
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

/**
 * Opens the backup `file` and makes a device of it in the data folder `dir`, which must not be
 * initialised: its keys and its sites; `tmtp init` then writes config.json and api.token
 * beside them.
 */
export async function restoreIdentity (dir: string, file: string, env: NodeJS.ProcessEnv = process.env): Promise<Restored> {
  if (await configExists(dir)) throw usageError(`${dir} is already initialised (${CONFIG_FILE} exists): restore into a new --data folder`)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw usageError(`cannot read the backup ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  // the node's face on demand, as init does: the backup's format and the device's restore
  const { BackupError, NodeError, openBackup, parseBackup, restoreMemberDevice } = await import('../../node/index.js')
  let identity: DeviceIdentity | undefined
  try {
    const doc = parseBackup(text)
    identity = await openBackup(doc, await passphrase(env))
    await prepareDataDir(dir)
    await restoreMemberDevice(dir, identity)
    return { peerId: doc.peerId, sites: identity.sites }
  } catch (err) {
    // the backup's refusals, and a folder that holds keys already, are the member's to fix
    if (err instanceof BackupError || (err instanceof NodeError && err.code === 'INVALID_ARGUMENT')) throw new CliError(EXIT.USAGE, err.code, err.message)
    throw err
  } finally {
    identity?.ed25519.fill(0)
    identity?.x25519.fill(0)
  }
}

/** What init tells the member after a restore: the identity, and the sites the device reconnects to when it starts. */
export function restoredNote (restored: Restored): string {
  const sites = restored.sites.map(s => `${s.name !== '' ? `"${s.name}" ` : ''}${s.peerId}${s.left !== undefined ? ' (left)' : ''}`)
  return `restored identity ${restored.peerId} and ${sites.length} site(s)${sites.length > 0 ? `: ${sites.join(', ')}` : ''}`
}
