import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ApiClient } from './client.js'
import { readToken } from './config.js'

/**
 * `tmtp start --json` in a child process, started and waited for until it serves: its
 * ready line on stdout (written once the local API listens and api.json names it). Used by
 * `tmtp demo`, the command's tests and scripts/devnet. The child has an IPC channel, so it
 * also stops when this process goes away.
 */

export const BIN = fileURLToPath(new URL('../../bin/tmtp.js', import.meta.url))

/** The ready line of `tmtp start --json`; a bootstrap node has no local API, so no url. */
export interface TmtpReady {
  role: 'site' | 'member' | 'bootstrap'
  peerId: string
  listen: string[]
  url?: string
  pid: number
}

export interface TmtpExit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface TmtpStartOptions {
  /** More arguments of `tmtp start` (e.g. ['--bootstrap', addr]). */
  args?: string[]
  /** The child's environment. @default process.env */
  env?: NodeJS.ProcessEnv
  /** Names the process in errors and in `logs` lines. @default the data folder */
  name?: string
  /** Copy each line the node prints, after `[name] `. */
  logs?: NodeJS.WritableStream
  /** How long start-up may take; the child is killed after it. @default 30 s */
  timeoutMs?: number
}

/** What is kept of a child's output, for errors and tests. */
const MAX_OUTPUT = 256 * 1024

export class TmtpProcess {
  readonly name: string
  readonly dir: string
  readonly child: ChildProcess
  readonly ready: TmtpReady
  /** The local API (undefined for a bootstrap node). */
  readonly client?: ApiClient
  private readonly output: () => string
  private readonly exit: Promise<TmtpExit>

  private constructor (name: string, dir: string, child: ChildProcess, ready: TmtpReady, client: ApiClient | undefined, output: () => string, exit: Promise<TmtpExit>) {
    this.name = name
    this.dir = dir
    this.child = child
    this.ready = ready
    this.client = client
    this.output = output
    this.exit = exit
  }

  /** Runs `tmtp start --data dir --json` and resolves once the node serves; rejects (child killed) if it exits or times out first. */
  static async start (dir: string, opts: TmtpStartOptions = {}): Promise<TmtpProcess> {
    const name = opts.name ?? dir
    const child = spawn(process.execPath, [BIN, 'start', '--data', dir, '--json', ...opts.args ?? []], { env: opts.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
    let output = ''
    const exit = new Promise<TmtpExit>(resolve => { child.once('exit', (code, signal) => { resolve({ code, signal }) }) })
    child.once('error', () => {})
    const keep = (line: string): void => {
      output = (output + line + '\n').slice(-MAX_OUTPUT)
      opts.logs?.write(`[${name}] ${line}\n`)
    }
    createInterface({ input: child.stderr! }).on('line', keep)
    const lines = createInterface({ input: child.stdout! })
    const last = (): string => lastLines(output)
    const timeoutMs = opts.timeoutMs ?? 30_000
    let timer: NodeJS.Timeout | undefined
    try {
      const ready = await new Promise<TmtpReady>((resolve, reject) => {
        timer = setTimeout(() => { reject(new Error(`${name} did not start within ${timeoutMs / 1000} s: ${last()}`)) }, timeoutMs)
        exit.then(e => { reject(new Error(`${name} exited while starting (${e.signal ?? `code ${String(e.code)}`}): ${last()}`)) }, reject)
        lines.on('line', line => {
          const ready = parseReady(line, child.pid)
          if (ready !== undefined) resolve(ready)
          else keep(line)
        })
      })
      const client = ready.url === undefined ? undefined : new ApiClient(ready.url, await readToken(dir))
      return new TmtpProcess(name, dir, child, ready, client, () => output, exit)
    } catch (err) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exit
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  get running (): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  get url (): string {
    return this.ready.url ?? ''
  }

  /** Everything the node printed (its log; the last 256 KiB). */
  logs (): string {
    return this.output()
  }

  /** The last few lines of the log, for an error message. */
  lastLog (): string {
    return lastLines(this.output())
  }

  /** Sends `signal` (SIGTERM: a clean stop), then SIGKILL after `killAfterMs`; resolves with how it exited. */
  async stop (signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 10_000): Promise<TmtpExit> {
    if (this.running) this.child.kill(signal)
    const timer = setTimeout(() => { if (this.running) this.child.kill('SIGKILL') }, killAfterMs)
    try {
      return await this.exit
    } finally {
      clearTimeout(timer)
    }
  }
}

function parseReady (line: string, pid: number | undefined): TmtpReady | undefined {
  try {
    const ready = JSON.parse(line) as TmtpReady
    return ready.pid === pid ? ready : undefined
  } catch {
    return undefined
  }
}

function lastLines (output: string): string {
  return output.trimEnd().split('\n').slice(-3).join(' | ') || 'no output'
}
