import type { ChildProcess } from 'node:child_process'
import { withTimeout } from '../../src/cli/time.js'

/**
 * Child processes driven over their IPC channel (node-process.ts for the nodes,
 * scripts/bench/ipc.ts for the bench's floors and Mosquitto clients): the parent's side
 * (IpcChild) and the child's (serveIpc). The child announces
 * `{ type: 'ready', ... }`, then answers each `{ id, cmd, args }` with
 * `{ type: 'reply', id, ok, result | error }`, and stops on 'stop'. Every request has a
 * timeout; requests pending when the child exits fail with its last output.
 */

export type IpcReply<Ready extends object> =
  | ({ type: 'ready' } & Ready)
  | { type: 'reply', id: number, ok: true, result: unknown }
  | { type: 'reply', id: number, ok: false, error: string }

export interface IpcRequest {
  id: number
  cmd: string
  args: unknown
}

export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
}

export class IpcChild<Ready extends object = Record<string, never>> {
  /** Every child started and not yet exited, so that a script can kill them all on the way out. */
  static readonly live = new Set<IpcChild<object>>()

  readonly label: string
  readonly pid: number
  protected readonly child: ChildProcess
  private readonly pending = new Map<number, { resolve: (value: unknown) => void, reject: (err: Error) => void, timer: NodeJS.Timeout }>()
  private readonly exit: Promise<ExitInfo>
  private readonly started: Promise<Ready>
  private exitInfo?: ExitInfo
  private nextId = 1
  private log = ''

  constructor (label: string, child: ChildProcess, maxOutput = 64 * 1024) {
    this.label = label
    this.child = child
    this.pid = child.pid ?? -1
    IpcChild.live.add(this)
    const keep = (chunk: Buffer): void => { this.log = (this.log + chunk.toString()).slice(-maxOutput) }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    this.exit = new Promise(resolve => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal }
        IpcChild.live.delete(this)
        for (const [, p] of this.pending) {
          clearTimeout(p.timer)
          p.reject(new Error(`${label} process ${this.pid} exited (${signal ?? code}) before answering:\n${this.log.slice(-2000)}`))
        }
        this.pending.clear()
        resolve(this.exitInfo)
      })
    })
    this.started = new Promise((resolve, reject) => {
      child.once('error', reject)
      this.exit.then(info => { reject(new Error(`${label} process exited (${info.signal ?? info.code}) before it was ready:\n${this.log.slice(-2000)}`)) }, () => {})
      child.on('message', (message: IpcReply<Ready>) => {
        if (message.type === 'ready') {
          resolve(message)
          return
        }
        const p = this.pending.get(message.id)
        if (p === undefined) return
        this.pending.delete(message.id)
        clearTimeout(p.timer)
        if (message.ok) p.resolve(message.result)
        else p.reject(new Error(`${label} ${this.pid}: ${message.error}`))
      })
    })
    // ready() awaits it; a late failure must not become an unhandled rejection
    this.started.catch(() => {})
  }

  /** SIGKILLs every child still running (a script's way out: Ctrl-C, a failure). */
  static killAll (): void {
    for (const child of IpcChild.live) child.kill()
  }

  get exited (): boolean {
    return this.exitInfo !== undefined
  }

  /** Resolves with the child's ready message; kills the child if it is not ready in time. */
  async ready (timeoutMs: number): Promise<Ready> {
    try {
      return await withTimeout(this.started, timeoutMs, () => `${this.label} process not ready after ${timeoutMs} ms:\n${this.log.slice(-2000)}`)
    } catch (err) {
      this.kill()
      await this.waitForExit(5_000).catch(() => {})
      throw err
    }
  }

  async request<T> (cmd: string, args: unknown, timeoutMs = 60_000): Promise<T> {
    if (this.exited || !this.child.connected) throw new Error(`${this.label} process ${this.pid} is not running`)
    const id = this.nextId++
    const request: IpcRequest = { id, cmd, args }
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.label} process: ${cmd} timed out after ${timeoutMs} ms`))
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

  /** Sends a signal (SIGKILL by default) unless the process has exited. */
  kill (signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exited) this.child.kill(signal)
  }

  /** Resolves when the process has exited (at once if it has). */
  async waitForExit (timeoutMs = 10_000): Promise<ExitInfo> {
    return await withTimeout(this.exit, timeoutMs, () => `${this.label} process ${this.pid} still running after ${timeoutMs} ms`)
  }

  /** Asks the child to stop cleanly (command 'stop'); SIGKILL if it does not within the timeout. */
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

  /** Copies everything the process prints from now on (stdout and stderr) to `stream`. */
  pipeOutput (stream: NodeJS.WritableStream): void {
    this.child.stdout?.pipe(stream)
    this.child.stderr?.pipe(stream)
  }

  /** The last output of the process (stdout and stderr), for failure reports. */
  output (): string {
    return this.log
  }
}

/** What a child process answers: one handler per command. */
export type IpcHandlers = Record<string, ((args: never) => Promise<unknown>) | undefined>

/**
 * The child's side: answers each request with its handler's result (or error), disconnects
 * after answering 'stop', runs `stop` (at most `graceMs`) and exits when the parent goes away,
 * and announces `ready`.
 */
export function serveIpc<Ready extends object> (handlers: IpcHandlers, opts: { label: string, ready: Ready, stop: () => Promise<unknown>, graceMs: number }): void {
  const reply = (message: IpcReply<Ready>): void => {
    if (process.connected) process.send?.(message)
  }
  process.on('disconnect', () => {
    setTimeout(() => process.exit(0), opts.graceMs).unref()
    opts.stop().finally(() => process.exit(0))
  })
  process.on('message', (request: IpcRequest) => {
    const handler = handlers[request.cmd] as ((args: unknown) => Promise<unknown>) | undefined
    const run = handler === undefined ? Promise.reject(new Error(`a ${opts.label} process does not answer ${JSON.stringify(request.cmd)}`)) : handler(request.args)
    run.then(result => {
      reply({ type: 'reply', id: request.id, ok: true, result })
      if (request.cmd === 'stop') process.disconnect()
    }, (err: unknown) => {
      reply({ type: 'reply', id: request.id, ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) })
    })
  })
  reply({ type: 'ready', ...opts.ready })
}
