import type { Command } from 'commander'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { loadConfig, readRuntime, readToken, removeRuntime, RUNTIME_FILE, writeConfig, writeRuntime, type TmtpConfig } from '../config.js'
import { CliError, EXIT } from '../errors.js'
import { checkMultiaddrs, command, context, parseMultiaddr, parsePort, type CommonOptions } from './common.js'
import { type MemberNode, type SiteNode, type StorageFailure } from '../../node/index.js'

interface StartOptions extends CommonOptions {
  listen?: string[]
  apiPort?: number
  bootstrap?: string[]
}

/**
 * The API's logger (errors it did not expect): warnings and errors as one stderr line each,
 * the rest dropped. The API never hands it a request's headers, so never the token.
 */
function apiLogger (log: (message: string) => void): FastifyBaseLogger {
  const line = (level: string) => (obj: unknown, msg?: string): void => {
    const err = (obj as { err?: Error } | undefined)?.err
    const text = typeof obj === 'string' ? obj : [msg, err?.stack ?? err?.message].filter(s => s !== undefined).join(': ')
    log(`api ${level}: ${text.replace(/\n\s*/g, ' | ')}`)
  }
  const quiet = (): void => {}
  const logger = {
    level: 'warn',
    fatal: line('fatal'),
    error: line('error'),
    warn: line('warn'),
    info: quiet,
    debug: quiet,
    trace: quiet,
    silent: quiet,
    child: () => logger
  }
  return logger as unknown as FastifyBaseLogger
}

/** Longest a clean shutdown may take before the process gives up and exits 1. */
const SHUTDOWN_TIMEOUT_MS = 15_000
/** Deliveries and received messages are logged as one line per second at most. */
const LOG_BATCH_MS = 1_000

function logger (role: string): (message: string) => void {
  return message => { process.stderr.write(`${new Date().toISOString()} tmtp ${role}[${process.pid}]: ${message}\n`) }
}

/** Groups frequent events into one log line per second: one event prints in full, many as a count. */
function batcher (log: (message: string) => void, one: (detail: string) => string, many: (count: number) => string): { add: (detail: string) => void, flush: () => void } {
  let pending: string[] = []
  let timer: NodeJS.Timeout | undefined
  const flush = (): void => {
    clearTimeout(timer)
    timer = undefined
    if (pending.length === 1) log(one(pending[0]))
    else if (pending.length > 1) log(many(pending.length))
    pending = []
  }
  return {
    add (detail) {
      pending.push(detail)
      timer ??= setTimeout(flush, LOG_BATCH_MS)
    },
    flush
  }
}

function urlHost (host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1'
  return host.includes(':') ? `[${host}]` : host
}

async function startNode (config: TmtpConfig, dir: string): Promise<SiteNode | MemberNode> {
  if (config.role === 'site') {
    const { createSiteNode } = await import('../../node/index.js')
    return await createSiteNode({ ...config.limits, dataDir: dir, name: config.name, listen: config.listen, fsync: config.fsync, bootstrap: config.bootstrap, eventJournal: config.webhook !== null })
  }
  const { createMemberNode } = await import('../../node/index.js')
  // the site-only limits (joins, queue per device) mean nothing to a device, which ignores them
  return await createMemberNode({ ...config.limits, dataDir: dir, deviceName: config.name, listen: config.listen, fsync: config.fsync, bootstrap: config.bootstrap })
}

/** Resolves on SIGINT, SIGTERM, or (started with an IPC channel) when the parent goes away. */
async function stopSignal (): Promise<string> {
  return await new Promise<string>(resolve => {
    process.once('SIGINT', () => { resolve('SIGINT') })
    process.once('SIGTERM', () => { resolve('SIGTERM') })
    if (process.connected) process.once('disconnect', () => { resolve('parent gone') })
  })
}

/** A bootstrap node: a DHT server and nothing else, so no local API; its addresses go to the log. */
async function runBootstrap (config: TmtpConfig, dir: string, json: boolean, log: (message: string) => void): Promise<void> {
  const { createBootstrapNode } = await import('../../node/index.js')
  const node = await createBootstrapNode({ dataDir: dir, listen: config.listen, bootstrap: config.bootstrap, limits: config.limits }).catch(err => {
    throw new CliError(EXIT.INTERNAL, 'START_FAILED', `cannot start the bootstrap node: ${(err as Error).message}`, { cause: err })
  })
  const stopped = stopSignal()
  log(`bootstrap node ${node.peerId}: give other nodes --bootstrap ${node.multiaddrs().join(' ')}`)
  if (json) process.stdout.write(JSON.stringify({ role: 'bootstrap', peerId: node.peerId, listen: node.multiaddrs(), pid: process.pid }) + '\n')
  log(`stopping (${await stopped})`)
  await node.stop()
  log('stopped')
  if (process.connected) process.disconnect()
}

/** Logs the node's important events; the function it returns flushes them and stops logging failures (shutdown). */
function watchEvents (node: SiteNode | MemberNode, role: string, log: (message: string) => void): () => void {
  let stopping = false
  const storage = ({ detail: f }: CustomEvent<StorageFailure>): void => {
    log(`STORAGE_FAILURE: ${f.message}; every write is refused (nothing more is stored or acknowledged) until the node is restarted: free disk space, then restart it`)
  }
  if (role === 'site') {
    const site = node as SiteNode
    site.addEventListener('storage', storage)
    const delivered = batcher(log, d => `delivered ${d}`, n => `delivered ${n} messages`)
    site.addEventListener('delivery', ({ detail: e }) => {
      if (e.type === 'delivered') delivered.add(`${e.id} to device ${e.device} (member ${e.member}) in ${e.at - e.created} ms`)
      else log(`message ${e.id} to device ${e.device}: ${e.type}${e.code !== undefined ? ` (${e.code})` : ''}`)
    })
    site.addEventListener('session', ({ detail: s }) => {
      if (!s.ok && !stopping) log(`delivery to device ${s.device} stopped: ${s.code ?? 'error'}; retrying later`)
    })
    site.addEventListener('reply', ({ detail: r }) => { log(`reply ${r.id} from member ${r.ref !== '' ? r.ref : r.member} (device ${r.device})`) })
    return () => {
      stopping = true
      delivered.flush()
    }
  }
  const member = node as MemberNode
  member.addEventListener('storage', storage)
  const received = batcher(log, d => `received ${d}`, n => `received ${n} messages`)
  member.addEventListener('message', ({ detail: m }) => { received.add(`message ${m.id} from site ${m.siteName !== '' ? `"${m.siteName}" ` : ''}${m.site}`) })
  return received.flush
}

/**
 * Runs the node of a data folder and its local API in the foreground until SIGINT or
 * SIGTERM (or, when started with an IPC channel, until the parent goes away), then stops
 * both and exits 0. api.json says where the API listens while it runs.
 */
async function start (opts: StartOptions): Promise<void> {
  const { dir, out } = context(opts)
  await checkMultiaddrs(opts.listen, '--listen')
  await checkMultiaddrs(opts.bootstrap, '--bootstrap')
  const peerless = opts.bootstrap?.find(b => !/\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/.test(b))
  if (peerless !== undefined) throw new CliError(EXIT.USAGE, 'INVALID_ARGUMENT', `--bootstrap ${peerless} must end with /p2p/<PeerId>`)
  const config = await loadConfig(dir)
  await checkMultiaddrs(config.listen, 'config.json listen')
  const log = logger(config.role)
  const running = await readRuntime(dir)
  if (running !== undefined) throw new CliError(EXIT.USAGE, 'ALREADY_RUNNING', `the node of ${dir} is already running (pid ${running.pid}, API ${running.url})`)
  const token = await readToken(dir)
  if (opts.bootstrap !== undefined) {
    // kept: the next start uses them too
    config.bootstrap = opts.bootstrap
    await writeConfig(dir, config)
  }
  if (opts.listen !== undefined) config.listen = opts.listen
  if (opts.apiPort !== undefined) config.apiPort = opts.apiPort

  log(`starting (data ${dir})`)
  if (config.role === 'bootstrap') {
    await runBootstrap(config, dir, out.json, log)
    return
  }
  const node = await startNode(config, dir).catch(err => {
    throw new CliError(EXIT.INTERNAL, (err as { code?: string }).code ?? 'START_FAILED', `cannot start the ${config.role} node: ${(err as Error).message}`, { cause: err })
  })
  // the signals are caught before anything says the node is ready (api.json, the ready line): a
  // parent that stops the node as soon as it reads the ready line must not kill it mid-step
  const stopped = stopSignal()
  let api: FastifyInstance | undefined
  let flushLog = (): void => {}
  try {
    const apiModule = await import('../../api/index.js')
    api = config.role === 'site'
      ? apiModule.createSiteApi({ node: node as SiteNode, token, allowedHosts: config.apiHosts, name: config.name, webhook: config.webhook ?? undefined, logger: apiLogger(log) })
      : apiModule.createMemberApi({ node: node as MemberNode, token, allowedHosts: config.apiHosts, dataDir: dir, logger: apiLogger(log) })
    await api.listen({ host: config.apiHost, port: config.apiPort })
    const address = api.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : config.apiPort
    const url = `http://${urlHost(config.apiHost)}:${port}`
    await writeRuntime(dir, { url, pid: process.pid })
    flushLog = watchEvents(node, config.role, log)
    log(`${config.role} node ${node.peerId} listening on ${node.multiaddrs().join(' ')}`)
    log(`local API on ${url} (${RUNTIME_FILE} written)`)
    // the address without the token: "tmtp open" hands the token to the browser in the fragment
    if (config.role === 'member') log(`inbox page on ${url}/: "tmtp open" opens it signed in`)
    // with --json, one line on stdout once the node is ready (the log stays on stderr)
    if (out.json) process.stdout.write(JSON.stringify({ role: config.role, peerId: node.peerId, listen: node.multiaddrs(), url, pid: process.pid }) + '\n')
  } catch (err) {
    await api?.close().catch(() => {})
    await node.stop().catch(() => {})
    await removeRuntime(dir)
    if (err instanceof CliError) throw err
    throw new CliError(EXIT.INTERNAL, (err as { code?: string }).code ?? 'START_FAILED', `cannot start the local API on ${config.apiHost}:${config.apiPort}: ${(err as Error).message}`, { cause: err })
  }

  const reason = await stopped
  log(`stopping (${reason})`)
  const force = (why: string): void => {
    log(`${why}: exiting without a clean stop`)
    process.exit(EXIT.INTERNAL)
  }
  const again = (): void => { force('second signal') }
  process.once('SIGINT', again)
  process.once('SIGTERM', again)
  setTimeout(() => { force(`shutdown took over ${SHUTDOWN_TIMEOUT_MS / 1000} s`) }, SHUTDOWN_TIMEOUT_MS).unref()
  flushLog()
  await api.close()
  await node.stop()
  await removeRuntime(dir)
  log('stopped')
  if (process.connected) process.disconnect()
}

export function startCommand (): Command {
  return command('start', 'run the node and its local HTTP API in the foreground until SIGINT or SIGTERM')
    .option('--listen <multiaddr...>', 'libp2p listen addresses for this run (default: config.json)', parseMultiaddr)
    .option('--api-port <port>', 'port of the local HTTP API for this run (default: config.json)', parsePort)
    .option('--bootstrap <multiaddr...>', 'DHT bootstrap peers (…/p2p/<PeerId>), kept in config.json for later starts', parseMultiaddr)
    .action(async (opts: StartOptions) => { await start(opts) })
}
