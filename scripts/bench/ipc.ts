/**
 * The bench's child processes (scripts/bench/worker.ts), driven over their IPC channel: a
 * site, a group of member nodes, or one end of a floor. Every request has a timeout; a
 * child exits on its own when the bench goes away.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export type WorkerRole = 'site' | 'members' | 'floor' | 'mqtt'

export type WorkerReply =
  | { type: 'ready', pid: number }
  | { type: 'reply', id: number, ok: true, result: unknown }
  | { type: 'reply', id: number, ok: false, error: string }

export interface WorkerRequest {
  id: number
  cmd: string
  args: unknown
}

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

export class Worker {
  readonly role: WorkerRole
  readonly pid: number
  private readonly child: ChildProcess
  private readonly pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }>()
  private readonly exit: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  private readonly started: Promise<void>
  private exited = false
  private nextId = 1
  private log = ''

  private constructor (role: WorkerRole, child: ChildProcess) {
    this.role = role
    this.child = child
    this.pid = child.pid ?? -1
    const keep = (chunk: Buffer): void => { this.log = (this.log + chunk.toString()).slice(-MAX_OUTPUT) }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    this.exit = new Promise(resolve => {
      child.once('exit', (code, signal) => {
        this.exited = true
        liveWorkers.delete(this)
        for (const [, p] of this.pending) {
          clearTimeout(p.timer)
          p.reject(new Error(`${role} process ${this.pid} exited (${signal ?? code}) before answering:\n${this.log.slice(-2000)}`))
        }
        this.pending.clear()
        resolve({ code, signal })
      })
    })
    this.started = new Promise((resolve, reject) => {
      child.once('error', reject)
      this.exit.then(info => { reject(new Error(`${role} process exited (${info.signal ?? info.code}) before it was ready:\n${this.log.slice(-2000)}`)) }, () => {})
      child.on('message', (message: WorkerReply) => {
        if (message.type === 'ready') {
          resolve()
          return
        }
        const p = this.pending.get(message.id)
        if (p === undefined) return
        this.pending.delete(message.id)
        clearTimeout(p.timer)
        if (message.ok) p.resolve(message.result)
        else p.reject(new Error(`${role} ${this.pid}: ${message.error}`))
      })
    })
    this.started.catch(() => {})
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
    // BENCH_LOG_DIR=DIR keeps each child's whole output (e.g. with DEBUG=libp2p:connection-manager)
    const logDir = process.env.BENCH_LOG_DIR
    if (logDir !== undefined && logDir !== '') {
      const file = createWriteStream(join(logDir, `${role}-${worker.pid}.log`))
      child.stdout?.pipe(file)
      child.stderr?.pipe(file)
    }
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([worker.started, new Promise<never>((resolve, reject) => {
        timer = setTimeout(() => { reject(new Error(`${role} process not ready after ${opts.readyTimeoutMs ?? 30_000} ms`)) }, opts.readyTimeoutMs ?? 30_000)
      })])
    } catch (err) {
      worker.kill()
      throw err
    } finally {
      clearTimeout(timer)
    }
    return worker
  }

  async request<T> (cmd: string, args: unknown = {}, timeoutMs = 60_000): Promise<T> {
    if (this.exited || !this.child.connected) throw new Error(`${this.role} process ${this.pid} is not running`)
    const id = this.nextId++
    const request: WorkerRequest = { id, cmd, args }
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.role} process: ${cmd} timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
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

  async waitForExit (timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([this.exit, new Promise<never>((resolve, reject) => {
        timer = setTimeout(() => { reject(new Error(`${this.role} process ${this.pid} still running after ${timeoutMs} ms`)) }, timeoutMs)
      })])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Asks the child to stop cleanly; SIGKILL if it does not within the timeout. */
  async stop (timeoutMs = 5_000): Promise<void> {
    if (this.exited) return
    try {
      await this.request('stop', {}, timeoutMs)
      await this.waitForExit(timeoutMs)
    } catch {
      this.kill()
      await this.waitForExit(5_000).catch(() => {})
    }
  }

  output (): string {
    return this.log
  }
}
