import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { IpcChild, type ExitInfo, type IpcReply } from '../../scripts/lib/ipc-child.js'
import type { StorageFailure } from '../../src/node/storage-health.js'

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

/** What became of one send() of sendEach: its id, or the code it was refused with. */
export type SendOutcome = { subject: string, id: string } | { subject: string, code: string }

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
  /** Site: one send() to `to` per subject, at most `concurrency` at a time; each one's outcome, refusals included. */
  sendEach: { args: { to: string, subjects: string[], concurrency: number }, result: SendOutcome[] }
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
  /** The node's storage failure, if a write failed (the node then refuses every write). */
  storageFailure: { args: Record<string, never>, result: StorageFailure | null }
  /** Aborts every libp2p connection of the node (their sockets close mid-stream); answers how many. */
  abortConnections: { args: Record<string, never>, result: number }
  /** Stops the node cleanly; the process exits after answering. */
  stop: { args: Record<string, never>, result: null }
}

export type Command = keyof Commands

export interface Request<C extends Command = Command> {
  id: number
  cmd: C
  args: Commands[C]['args']
}

export type Reply = IpcReply<{ peerId: string, multiaddrs: string[] }>

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
  waitForExit: (timeoutMs?: number) => Promise<ExitInfo>
  readonly exited: boolean
  /** The last output of the process (stdout and stderr), for failure reports. */
  output: () => string
}

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const FIXTURE = 'test/fixtures/node-process.ts'

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
  const ipc = new IpcChild<{ peerId: string, multiaddrs: string[] }>(opts.role, child)
  const { peerId, multiaddrs } = await ipc.ready(opts.readyTimeoutMs ?? 30_000)
  return {
    role: opts.role,
    pid: ipc.pid,
    peerId,
    multiaddrs,
    request: async (cmd, args, timeoutMs) => await ipc.request(cmd, args, timeoutMs),
    kill: signal => { ipc.kill(signal) },
    waitForExit: async timeoutMs => await ipc.waitForExit(timeoutMs),
    get exited () { return ipc.exited },
    output: () => ipc.output()
  }
}
