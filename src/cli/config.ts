import { randomBytes } from 'node:crypto'
import { chmod, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { CliError, EXIT, usageError } from './errors.js'
import { checkAllowedHosts } from '../api/contract.js'
import { DEFAULTS, LIMIT_RANGES, type NodeLimits, resolveLimits } from '../node/contract.js'

/**
 * A node's data folder, as the `tmtp` command lays it out:
 *
 *   config.json     role, name, listen addresses, API host, names and port, fsync, webhook, bootstrap, limits
 *   api.token       the local API's bearer token (0600)
 *   api.json        { url, pid } while `tmtp start` runs
 *   identity.key    Ed25519 identity (0600, src/node/identity.ts)
 *   encryption.key  X25519 device key of a member (0600)
 *   db/             LevelDB
 */
export const CONFIG_FILE = 'config.json'
export const TOKEN_FILE = 'api.token'
export const RUNTIME_FILE = 'api.json'

/** 'bootstrap': a DHT server that only helps TMTP nodes find each other; it has no local API. */
export type Role = 'site' | 'member' | 'bootstrap'

export interface Webhook {
  url: string
  secret: string
}

export interface TmtpConfig {
  role: Role
  /** Site: display name shown to members. Member: device name shown to sites. */
  name: string
  /** libp2p listen multiaddrs. */
  listen: string[]
  /** Where the local HTTP API listens. */
  apiHost: string
  /** Host names the local API answers to besides loopback's (the Host header; src/api/hosts.ts). */
  apiHosts: string[]
  /** 0: any free port (the chosen URL is written to api.json). */
  apiPort: number
  /** fsync every group-committed batch (power-loss safe). */
  fsync: boolean
  /** Site only: where receipts and replies are POSTed, signed with the secret. */
  webhook: Webhook | null
  /** DHT bootstrap peers: multiaddrs ending with /p2p/<PeerId>. */
  bootstrap: string[]
  /** Limits to set instead of their defaults (src/node/limits.ts); the site-only ones are ignored by a member. */
  limits: Partial<NodeLimits>
}

/** What api.json holds while a node runs. */
export interface RuntimeInfo {
  url: string
  pid: number
}

/** The data folder: --data, else $TMTP_DATA, else $XDG_DATA_HOME/tmtp, else ~/.local/share/tmtp. */
export function dataDir (option?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (option !== undefined && option !== '') return resolve(option)
  if (env.TMTP_DATA !== undefined && env.TMTP_DATA !== '') return resolve(env.TMTP_DATA)
  if (env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME !== '') return resolve(env.XDG_DATA_HOME, 'tmtp')
  return join(homedir(), '.local', 'share', 'tmtp')
}

function isErrno (err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code
}

/** Writes a file beside its final name, then renames it: readers never see half a file. */
export async function writeFileAtomic (path: string, data: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  const handle = await open(tmp, 'w', mode)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(tmp, path)
}

/**
 * Creates the data folder owner-only (0700). A folder that already exists is tightened to
 * 0700 only when it is empty: it is then ours; otherwise the caller is warned.
 */
export async function prepareDataDir (dir: string): Promise<{ warning?: string }> {
  const created = await mkdir(dir, { recursive: true, mode: 0o700 })
  if (created !== undefined || (await readdir(dir)).length === 0) {
    await chmod(dir, 0o700)
    return {}
  }
  const info = await stat(dir)
  if ((info.mode & 0o077) !== 0) return { warning: `${dir} is accessible to other users: chmod 700 it` }
  return {}
}

export async function configExists (dir: string): Promise<boolean> {
  try {
    await stat(join(dir, CONFIG_FILE))
    return true
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false
    throw err
  }
}

export function defaultConfig (role: Role, name: string): TmtpConfig {
  return {
    role,
    name,
    // a site listens on WebSockets too, for members in a browser
    listen: role === 'site' ? [...DEFAULTS.siteListen] : [...DEFAULTS.listen],
    apiHost: '127.0.0.1',
    apiHosts: [],
    apiPort: 0,
    fsync: true,
    webhook: null,
    bootstrap: [],
    limits: {}
  }
}

export async function writeConfig (dir: string, config: TmtpConfig): Promise<void> {
  await writeFileAtomic(join(dir, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n')
}

/** Refuses to overwrite: `init` on an initialised folder fails (flag 'wx'). */
export async function createConfig (dir: string, config: TmtpConfig): Promise<void> {
  const handle = await open(join(dir, CONFIG_FILE), 'wx', 0o600).catch(err => {
    if (isErrno(err, 'EEXIST')) throw usageError(`${dir} is already initialised (${CONFIG_FILE} exists): use another --data folder`)
    throw err
  })
  try {
    await handle.writeFile(JSON.stringify(config, null, 2) + '\n')
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function configError (path: string, message: string): CliError {
  return new CliError(EXIT.USAGE, 'BAD_CONFIG', `${path}: ${message}`)
}

function stringArray (value: unknown): value is string[] {
  return Array.isArray(value) && value.every(v => typeof v === 'string')
}

/** Reads and checks config.json: a file from outside, so every field is validated. */
export async function loadConfig (dir: string): Promise<TmtpConfig> {
  const path = join(dir, CONFIG_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw new CliError(EXIT.USAGE, 'NOT_INITIALISED', `${dir} is not a tmtp data folder: run "tmtp init --role site|member --data ${dir}" first`)
    throw err
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw configError(path, `not valid JSON (${(err as Error).message})`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw configError(path, 'not a JSON object')
  const c = raw as Record<string, unknown>
  if (c.role !== 'site' && c.role !== 'member' && c.role !== 'bootstrap') throw configError(path, 'role must be "site", "member" or "bootstrap"')
  const defaults = defaultConfig(c.role, '')
  const config: TmtpConfig = { ...defaults, ...c } as TmtpConfig
  if (typeof config.name !== 'string') throw configError(path, 'name must be a string')
  if (!stringArray(config.listen)) throw configError(path, 'listen must be an array of multiaddr strings')
  if (typeof config.apiHost !== 'string' || config.apiHost === '') throw configError(path, 'apiHost must be a host name or address')
  try {
    config.apiHosts = checkAllowedHosts(config.apiHosts)
  } catch (err) {
    throw configError(path, `apiHosts: ${(err as Error).message}`)
  }
  if (!Number.isInteger(config.apiPort) || config.apiPort < 0 || config.apiPort > 65535) throw configError(path, 'apiPort must be a port number (0: any)')
  if (typeof config.fsync !== 'boolean') throw configError(path, 'fsync must be true or false')
  if (config.webhook !== null) {
    const w = config.webhook as unknown as Record<string, unknown>
    if (typeof w !== 'object' || typeof w.url !== 'string' || typeof w.secret !== 'string') throw configError(path, 'webhook must be null or { "url": string, "secret": string }')
    if (w.secret.length < 16) throw configError(path, 'webhook secret must be at least 16 characters')
  }
  if (!stringArray(config.bootstrap) || !config.bootstrap.every(b => /\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/.test(b))) {
    throw configError(path, 'bootstrap must be an array of multiaddr strings ending with /p2p/<PeerId>')
  }
  checkLimits(path, config.limits)
  return config
}

function checkLimits (path: string, limits: unknown): void {
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) throw configError(path, 'limits must be an object')
  const unknown = Object.keys(limits).filter(k => !(k in LIMIT_RANGES))
  if (unknown.length > 0) throw configError(path, `limits: unknown ${unknown.join(', ')} (known: ${Object.keys(LIMIT_RANGES).join(', ')})`)
  try {
    resolveLimits(limits)
  } catch (err) {
    throw configError(path, (err as Error).message)
  }
}

/** A new API token: 32 random bytes, base64url, in an owner-only file that must not exist yet. */
export async function createToken (dir: string): Promise<void> {
  const handle = await open(join(dir, TOKEN_FILE), 'wx', 0o600)
  try {
    await handle.writeFile(randomBytes(32).toString('base64url') + '\n')
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Reads the API token; a token file others may read is refused, as for the keys. */
export async function readToken (dir: string): Promise<string> {
  const path = join(dir, TOKEN_FILE)
  let token: string
  try {
    const info = await stat(path)
    if ((info.mode & 0o077) !== 0) throw new CliError(EXIT.USAGE, 'TOKEN_UNSAFE', `${path} is readable by others: chmod 600 it`)
    token = (await readFile(path, 'utf8')).trim()
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw new CliError(EXIT.USAGE, 'NO_TOKEN', `${path} is missing: the folder was not made by "tmtp init"`)
    throw err
  }
  if (token === '' || /\s/.test(token)) throw new CliError(EXIT.USAGE, 'BAD_TOKEN_FILE', `${path} does not hold a token`)
  return token
}

/** True when a process with this pid exists (EPERM: it exists, but is another user's). */
export function pidAlive (pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return isErrno(err, 'EPERM')
  }
}

/** api.json, or undefined when it is missing, unreadable or its process is gone (stale). */
export async function readRuntime (dir: string): Promise<RuntimeInfo | undefined> {
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(join(dir, RUNTIME_FILE), 'utf8'))
  } catch {
    return undefined
  }
  const info = raw as Partial<RuntimeInfo> | null
  if (typeof info?.url !== 'string' || typeof info.pid !== 'number') return undefined
  if (!pidAlive(info.pid)) return undefined
  return { url: info.url, pid: info.pid }
}

export async function writeRuntime (dir: string, info: RuntimeInfo): Promise<void> {
  await writeFileAtomic(join(dir, RUNTIME_FILE), JSON.stringify(info) + '\n', 0o600)
}

/** Removes api.json if it is this process's. */
export async function removeRuntime (dir: string, pid = process.pid): Promise<void> {
  try {
    const info = JSON.parse(await readFile(join(dir, RUNTIME_FILE), 'utf8')) as Partial<RuntimeInfo>
    if (info.pid !== pid) return
  } catch {
    return
  }
  await rm(join(dir, RUNTIME_FILE), { force: true })
}
