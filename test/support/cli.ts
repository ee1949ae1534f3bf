import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The `tmtp` command in child processes, as a user runs it: `node bin/tmtp.js ...`, without
 * the test runner's loader (NODE_OPTIONS is dropped), so that bin/tmtp.js registers tsx itself.
 */

export const BIN = fileURLToPath(new URL('../../bin/tmtp.js', import.meta.url))

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Every process these helpers started and that may still run: the tests kill them at the end. */
const live = new Set<ChildProcess>()

function childEnv (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra }
  delete env.NODE_OPTIONS
  delete env.TMTP_DATA
  return env
}

function track (child: ChildProcess): ChildProcess {
  live.add(child)
  child.once('exit', () => { live.delete(child) })
  return child
}

/** Runs `tmtp <args>` to its end. */
export async function tmtp (args: string[], opts: { env?: NodeJS.ProcessEnv, input?: string, timeoutMs?: number } = {}): Promise<RunResult> {
  const child = track(spawn(process.execPath, [BIN, ...args], { env: childEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] }))
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  child.stderr?.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  child.stdin?.end(opts.input ?? '')
  const timer = setTimeout(() => { child.kill('SIGKILL') }, opts.timeoutMs ?? 30_000)
  try {
    return await new Promise((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (code, signal) => { resolve({ code, signal, stdout, stderr }) })
    })
  } finally {
    clearTimeout(timer)
  }
}

/** Runs `tmtp <args> --json`, expects exit code 0 and returns the parsed stdout. */
export async function tmtpJson<T = any> (args: string[], opts?: { env?: NodeJS.ProcessEnv, input?: string }): Promise<T> {
  const result = await tmtp([...args, '--json'], opts)
  if (result.code !== 0) throw new Error(`tmtp ${args.join(' ')} exited ${String(result.code)}: ${result.stderr}`)
  return JSON.parse(result.stdout) as T
}

/** A running `tmtp start` (spawned with an IPC channel: it also stops if the test process dies). */
export interface StartedNode {
  readonly child: ChildProcess
  readonly dir: string
  readonly url: string
  readonly token: string
  logs: () => string
  /** Sends SIGTERM and waits for the exit. */
  stop: (signal?: NodeJS.Signals) => Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

export async function startNode (dir: string, args: string[] = [], timeoutMs = 30_000): Promise<StartedNode> {
  const child = track(spawn(process.execPath, [BIN, 'start', '--data', dir, ...args], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }))
  let logs = ''
  child.stdout?.setEncoding('utf8').on('data', (s: string) => { logs += s })
  child.stderr?.setEncoding('utf8').on('data', (s: string) => { logs += s })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    child.once('exit', (code, signal) => { resolve({ code, signal }) })
  })
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`tmtp start exited ${String(child.exitCode)}: ${logs}`)
    try {
      const info = JSON.parse(await readFile(join(dir, 'api.json'), 'utf8')) as { url: string, pid: number }
      if (info.pid === child.pid) {
        const token = (await readFile(join(dir, 'api.token'), 'utf8')).trim()
        return {
          child,
          dir,
          url: info.url,
          token,
          logs: () => logs,
          stop: async (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal)
            return await exited
          }
        }
      }
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`tmtp start did not write api.json within ${timeoutMs} ms: ${logs}`)
    }
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

/** Kills (SIGKILL) every process the helpers started that is still running, and waits for them. */
export async function killAll (): Promise<void> {
  await Promise.all([...live].map(async child => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const gone = new Promise(resolve => { child.once('exit', resolve) })
    child.kill('SIGKILL')
    await gone
  }))
}

/** Calls a node's local API directly (for waiting on a state without spawning a command per poll). */
export async function api<T = any> (node: StartedNode, path: string): Promise<T> {
  const response = await fetch(node.url + path, { headers: { authorization: `Bearer ${node.token}` } })
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`)
  return await response.json() as T
}

export async function waitUntil (what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}
