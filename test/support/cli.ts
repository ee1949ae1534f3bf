import { spawn, type ChildProcess } from 'node:child_process'
import { BIN, TmtpProcess } from '../../src/cli/tmtp-process.js'

/**
 * The `tmtp` command in child processes, as a user runs it: `node bin/tmtp.js ...` (the
 * compiled dist/), without the test runner's loader (NODE_OPTIONS is dropped).
 */

export { BIN }

/** A running `tmtp start` (spawned with an IPC channel: it also stops if the test process dies). */
export type StartedNode = TmtpProcess

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Every process these helpers started that may still run: the tests kill them at the end. */
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

/** `tmtp start --data dir <args>`, once it serves. */
export async function startNode (dir: string, args: string[] = []): Promise<StartedNode> {
  const node = await TmtpProcess.start(dir, { args, env: childEnv() })
  track(node.child)
  return node
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

/** GET on a node's local API (for waiting on a state without spawning a command per poll). */
export async function api<T = any> (node: StartedNode, path: string): Promise<T> {
  if (node.client === undefined) throw new Error(`${node.dir} has no local API`)
  return await node.client.get<T>(path)
}
