import { hostname } from 'node:os'
import { join } from 'node:path'
import { Option, type Command } from 'commander'
import { CONFIG_FILE, configExists, createConfig, createToken, defaultConfig, prepareDataDir, type Role, type TmtpConfig } from '../config.js'
import { usageError } from '../errors.js'
import { fields } from '../output.js'
import { checkMultiaddrs, command, context, parseMultiaddr, parsePort, type CommonOptions } from './common.js'
import { PASSPHRASE_ENV, restoredNote, restoreIdentity } from './restore.js'

export interface InitOptions {
  role: Role
  name?: string
  listen?: string[]
  apiPort?: number
}

export interface InitResult {
  role: Role
  name: string
  peerId: string
  data: string
  config: TmtpConfig
}

/**
 * Makes a data folder (0700) with the node's identity (and a member's encryption key),
 * config.json and api.token (0600). An initialised folder is never overwritten.
 */
export async function initDataDir (dir: string, opts: InitOptions): Promise<InitResult & { warning?: string }> {
  if (await configExists(dir)) throw usageError(`${dir} is already initialised (${CONFIG_FILE} exists): use another --data folder`)
  const { warning } = await prepareDataDir(dir)
  const name = opts.name ?? (opts.role === 'member' ? hostname() : `TMTP ${opts.role}`)
  const config = defaultConfig(opts.role, name)
  if (opts.listen !== undefined && opts.listen.length > 0) config.listen = opts.listen
  if (opts.apiPort !== undefined) config.apiPort = opts.apiPort
  // the node's face on demand: every other command but start takes the node's contract alone (src/node/contract.ts)
  const { loadEncryptionKey, loadIdentity, peerIdToString } = await import('../../node/index.js')
  const signer = await loadIdentity(dir)
  if (opts.role === 'member') await loadEncryptionKey(dir)
  // the config goes last but one: its presence means "initialised", and it refuses a racing init
  await createConfig(dir, config)
  await createToken(dir)
  return { role: opts.role, name, peerId: peerIdToString(signer.peerId), data: dir, config, warning }
}

export function initCommand (): Command {
  return command('init', 'create a node\'s data folder: identity keys, config.json and the API token')
    .addOption(new Option('--role <role>', 'what this node is').choices(['site', 'member', 'bootstrap']).makeOptionMandatory())
    .option('--name <name>', 'site: display name shown to members; member: device name shown to sites')
    .option('--listen <multiaddr...>', 'libp2p listen addresses (default /ip4/127.0.0.1/tcp/0; a site also /ip4/127.0.0.1/tcp/0/ws, for members in a browser)', parseMultiaddr)
    .option('--api-port <port>', 'port of the local HTTP API on 127.0.0.1 (default 0: any free port)', parsePort)
    .option('--restore <file>', `member: this device's identity from an encrypted backup (the inbox page's Backup); asks for its passphrase, or reads $${PASSPHRASE_ENV}`)
    .action(async (opts: CommonOptions & InitOptions & { restore?: string }) => {
      const { dir, out } = context(opts)
      if (opts.name !== undefined && opts.name.trim() === '') throw usageError('--name must not be empty')
      if (opts.restore !== undefined && opts.role !== 'member') throw usageError('--restore makes a member device: use it with --role member')
      await checkMultiaddrs(opts.listen, '--listen')
      const restored = opts.restore === undefined ? undefined : await restoreIdentity(dir, opts.restore)
      const result = await initDataDir(dir, opts)
      if (result.warning !== undefined) out.note(`warning: ${result.warning}`)
      if (restored !== undefined) out.note(restoredNote(restored))
      out.result({ role: result.role, name: result.name, peerId: result.peerId, data: result.data, config: join(dir, CONFIG_FILE), ...(restored !== undefined ? { restoredSites: restored.sites } : {}) }, () => [
        `initialised a ${result.role} node`,
        fields([
          ['peer id', result.peerId],
          ['name', result.name],
          ['data', dir],
          ['listen', result.config.listen.join(' ')],
          ['api', `${result.config.apiHost}:${result.config.apiPort === 0 ? 'any free port' : result.config.apiPort}`]
        ]),
        '',
        `start it with: tmtp start --data ${dir}`
      ].join('\n'))
    })
}
