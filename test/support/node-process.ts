import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * A TMTP site or member node in a child process (test/fixtures/node-process.ts), driven over
 * the child's IPC channel, so that tests can SIGKILL a real process and restart it on the
 * same data folder. The child exits on its own when this process goes away.
 */

export type Role = 'site' | 'member'

/** One message of a member's inbox, as the crash tests check it. */
export interface InboxEntry {
  id: string
  seq: number
  subject: string
}

/** The commands a node process answers, with their arguments and results. */
export interface Commands {
  peerId: { args: Record<string, never>, result: string }
  multiaddrs: { args: Record<string, never>, result: string[] }
  /** Site: issues an invite for user reference `ref`. */
  createInvite: { args: { ref: string }, result: { token: string } }
  /** Member: joins the site of the invite. */
  join: { args: { token: string }, result: { site: string, member: string } }
  /**
   * Site: queues `count` messages to `to`, at most `concurrency` send() calls at a time, each
   * subject `${prefix}${i}`; the ids are in call order, which is the order of their sequence
   * numbers (send() takes the outbox lock in call order).
   */
  send: { args: { to: string, count: number, concurrency: number, prefix: string }, result: { ids: string[] } }
  /** Site: outbox entries, running delivery sessions and message statuses by state. */
  stats: { args: Record<string, never>, result: { queued: number, activeDeliveries: number, states: Record<string, number> } }
  /** Site: how many of these messages are in each delivery state, over all their devices. */
  states: { args: { ids: string[] }, result: Record<string, number> }
  /** Member: the inbox in sequence order. */
  inbox: { args: Record<string, never>, result: InboxEntry[] }
  /** Member: messages in the inbox (counted at start, then by 'message' events). */
  inboxCount: { args: Record<string, never>, result: number }
  /** Member: resolves once the inbox holds at least `count` messages. */
  waitInbox: { args: { count: number, timeoutMs: number }, result: number }
  /** Stops the node cleanly; the process exits after answering. */
  stop: { args: Record<string, never>, result: null }
}

export type Command = keyof Commands

export interface Request<C extends Command = Command> {
  id: number
  cmd: C
  args: Commands[C]['args']
}

export type Reply =
  | { type: 'ready', peerId: string, multiaddrs: string[] }
  | { type: 'reply', id: number, ok: true, result: unknown }
  | { type: 'reply', id: number, ok: false, error: string }

export interface NodeProcessOptions {
  role: Role
  dataDir: string
  /** libp2p listen address. @default '/ip4/127.0.0.1/tcp/0' */
  listen?: string
  /** How long start-up may take. @default 30 s */
  readyTimeoutMs?: number
}

export interface NodeProcess {
  readonly role: Role
  readonly pid: number
  readonly peerId: string
  readonly multiaddrs: string[]
  request: <C extends Command>(cmd: C, args: Commands[C]['args'], timeoutMs?: number) => Promise<Commands[C]['result']>
  /** Sends a signal (SIGKILL by default) unless the process has exited. */
  kill: (signal?: NodeJS.Signals) => void
  /** Resolves when the process has exited (at once if it has). */
  waitForExit: (timeoutMs?: number) => Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  readonly exited: boolean
  /** The last output of the process (stdout and stderr), for failure reports. */
  output: () => string
}

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const FIXTURE = 'test/fixtures/node-process.ts'
const MAX_OUTPUT = 64 * 1024

/** Starts a node process and waits until its node is listening. */
export async function startNodeProcess (opts: NodeProcessOptions): Promise<NodeProcess> {
  // the child gets its own --import tsx: NODE_OPTIONS of the test run would load it twice
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, opts.role, opts.dataDir, opts.listen ?? '/ip4/127.0.0.1/tcp/0'], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc']
  })
  const handle = new ChildNode(opts.role, child)
  try {
    await handle.ready(opts.readyTimeoutMs ?? 30_000)
  } catch (err) {
    handle.kill()
    await handle.waitForExit(5_000).catch(() => {})
    throw err
  }
  return handle
}

class ChildNode implements NodeProcess {
  readonly role: Role
  readonly pid: number
  peerId = ''
  multiaddrs: string[] = []
  private readonly child: ChildProcess
  private readonly pending = new Map<number, { resolve: (value: unknown) => void, reject: (err: Error) => void, timer: NodeJS.Timeout }>()
  private readonly exit: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  private readonly started: Promise<void>
  private exitInfo?: { code: number | null, signal: NodeJS.Signals | null }
  private nextId = 1
  private log = ''

  constructor (role: Role, child: ChildProcess) {
    this.role = role
    this.child = child
    this.pid = child.pid ?? -1
    const keep = (chunk: Buffer): void => {
      this.log = (this.log + chunk.toString()).slice(-MAX_OUTPUT)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    this.exit = new Promise(resolve => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal }
        for (const [, p] of this.pending) {
          clearTimeout(p.timer)
          p.reject(new Error(`${this.role} process ${this.pid} exited (${signal ?? code}) before answering`))
        }
        this.pending.clear()
        resolve(this.exitInfo)
      })
    })
    this.started = new Promise((resolve, reject) => {
      child.once('error', reject)
      this.exit.then(info => { reject(new Error(`${role} process exited (${info.signal ?? info.code}) before it was ready:\n${this.log}`)) }, () => {})
      child.on('message', (message: Reply) => {
        if (message.type === 'ready') {
          this.peerId = message.peerId
          this.multiaddrs = message.multiaddrs
          resolve()
          return
        }
        const p = this.pending.get(message.id)
        if (p === undefined) return
        this.pending.delete(message.id)
        clearTimeout(p.timer)
        if (message.ok) p.resolve(message.result)
        else p.reject(new Error(`${this.role} ${message.id}: ${message.error}`))
      })
    })
    // ready() awaits it; a late failure must not become an unhandled rejection
    this.started.catch(() => {})
  }

  get exited (): boolean {
    return this.exitInfo !== undefined
  }

  async ready (timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`${this.role} process not ready after ${timeoutMs} ms:\n${this.log}`)) }, timeoutMs)
    })
    try {
      await Promise.race([this.started, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  async request<C extends Command> (cmd: C, args: Commands[C]['args'], timeoutMs = 60_000): Promise<Commands[C]['result']> {
    if (this.exited || !this.child.connected) throw new Error(`${this.role} process ${this.pid} is not running`)
    const id = this.nextId++
    const request: Request<C> = { id, cmd, args }
    return await new Promise<Commands[C]['result']>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.role} process: ${cmd} timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer })
      this.child.send(request, err => {
        if (err === null) return
        this.pending.delete(id)
        clearTimeout(timer)
        reject(err)
      })
    })
  }

  kill (signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exited) this.child.kill(signal)
  }

  async waitForExit (timeoutMs = 10_000): Promise<{ code: number | null, signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`${this.role} process ${this.pid} still running after ${timeoutMs} ms`)) }, timeoutMs)
    })
    try {
      return await Promise.race([this.exit, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  output (): string {
    return this.log
  }
}
