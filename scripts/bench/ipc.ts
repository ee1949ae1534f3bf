/**
 * The bench's child processes (scripts/bench/worker.ts), driven over their IPC channel: a
 * site, a group of member nodes, or one end of a floor. Every request has a timeout; a
 * child exits on its own when the bench goes away.
 */
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { IpcChild } from '../lib/ipc-child.js'

export type WorkerRole = 'site' | 'members' | 'floor' | 'mqtt'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const WORKER = 'scripts/bench/worker.ts'
const MAX_OUTPUT = 32 * 1024

export interface SpawnOptions {
  /** Extra node flags for this child, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  execArgv?: string[]
  readyTimeoutMs?: number
}

/** Every child started and not yet exited, so that the runner can kill them on the way out. */
export const liveWorkers = new Set<Worker>()

export class Worker extends IpcChild<{ pid: number }> {
  readonly role: WorkerRole

  private constructor (role: WorkerRole, child: ReturnType<typeof spawn>) {
    super(role, child, MAX_OUTPUT)
    this.role = role
  }

  static async start (role: WorkerRole, args: string[] = [], opts: SpawnOptions = {}): Promise<Worker> {
    const env = { ...process.env }
    delete env.NODE_OPTIONS
    const child = spawn(process.execPath, [...(opts.execArgv ?? []), '--import', 'tsx', WORKER, role, ...args], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc']
    })
    const worker = new Worker(role, child)
    liveWorkers.add(worker)
    child.once('exit', () => liveWorkers.delete(worker))
    // BENCH_LOG_DIR=DIR keeps each child's whole output (e.g. with DEBUG=libp2p:connection-manager)
    const logDir = process.env.BENCH_LOG_DIR
    if (logDir !== undefined && logDir !== '') {
      const file = createWriteStream(join(logDir, `${role}-${worker.pid}.log`))
      child.stdout?.pipe(file)
      child.stderr?.pipe(file)
    }
    await worker.ready(opts.readyTimeoutMs ?? 30_000)
    return worker
  }
}
