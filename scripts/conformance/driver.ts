import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { Skipped, Unmet } from './report.js'

/**
 * The driver contract (spec/CONFORMANCE.md, "Drivers"): what the kit cannot do over the
 * wire, an implementation under test does when the kit runs one command per step. A driver
 * is a JSON object mapping each step to a command template: an array of words, or a string
 * split at white space into words. `{name}` in a word is replaced by the step's argument of
 * that name (no shell is involved, so no quoting is needed). The command prints one JSON
 * value on stdout and exits 0; on failure it exits non-zero and prints
 * {"error":{"code":"<TMTP or local code>"}} on stdout or stderr.
 */

export type DriverTemplates = Record<string, string | string[]>

/** The steps of each role and their arguments. */
export const SITE_STEPS = {
  invite: ['ref', 'expiresSeconds'],
  send: ['to', 'subject', 'body', 'ttlSeconds'],
  replies: [],
  'remove-member': ['ref'],
  'send-file': ['to', 'subject', 'body', 'ttlSeconds', 'file']
} as const

export const MEMBER_STEPS = {
  join: ['token'],
  inbox: [],
  reply: ['id', 'site', 'body'],
  leave: ['site'],
  block: ['site'],
  save: ['id', 'site', 'index', 'dir']
} as const

/** A step's failure as the driver reported it: exit code, error code (if printed) and output. */
export class DriverFailure extends Error {
  override readonly name = 'DriverFailure'
  readonly code?: string

  constructor (message: string, code?: string) {
    super(message)
    this.code = code
  }
}

/** How long one step may take before the kit kills it. */
const STEP_TIMEOUT_MS = 30_000
/** What the kit keeps of a step's output. */
const MAX_OUTPUT = 4 * 1024 * 1024

export class Driver {
  private readonly templates: DriverTemplates
  private readonly steps: Record<string, readonly string[]>

  constructor (templates: DriverTemplates, steps: Record<string, readonly string[]>) {
    for (const [step, template] of Object.entries(templates)) {
      if (!(step in steps)) throw new Error(`driver: unknown step "${step}" (steps: ${Object.keys(steps).join(', ')})`)
      if (typeof template !== 'string' && !(Array.isArray(template) && template.every(w => typeof w === 'string'))) {
        throw new Error(`driver: step "${step}" must be a string or an array of strings`)
      }
    }
    this.templates = templates
    this.steps = steps
  }

  static async load (file: string, steps: Record<string, readonly string[]>): Promise<Driver> {
    return new Driver(JSON.parse(await readFile(file, 'utf8')) as DriverTemplates, steps)
  }

  has (step: string): boolean {
    return this.templates[step] !== undefined
  }

  /** Runs a step and returns its parsed JSON output; DriverFailure if it fails, Skipped if the driver lacks it. */
  async run<T = unknown> (step: string, args: Record<string, string | number> = {}): Promise<T> {
    const template = this.templates[step]
    if (template === undefined) throw new Skipped(`the driver has no "${step}" step`)
    const words = typeof template === 'string' ? template.trim().split(/\s+/) : template
    const argv = words.map(word => word.replace(/\{(\w+)\}/g, (whole, name: string) => {
      if (!this.steps[step].includes(name)) return whole
      const value = args[name]
      if (value === undefined) throw new Error(`driver step ${step}: no value for {${name}}`)
      return String(value)
    }))
    const { code, stdout, stderr } = await runCommand(argv)
    if (code !== 0) {
      throw new DriverFailure(`driver step ${step} exited ${String(code)}: ${lastLine(stderr) ?? lastLine(stdout) ?? 'no output'}`, errorCode(stdout) ?? errorCode(stderr))
    }
    try {
      return JSON.parse(stdout) as T
    } catch {
      throw new Unmet(`driver step ${step} printed no JSON on stdout: ${lastLine(stdout) ?? 'nothing'}`)
    }
  }

  /** Runs a step that is expected to fail: its error code, or undefined if it succeeded. */
  async failure (step: string, args: Record<string, string | number>): Promise<{ code?: string, message: string } | undefined> {
    try {
      await this.run(step, args)
      return undefined
    } catch (err) {
      if (err instanceof DriverFailure) return { code: err.code, message: err.message }
      throw err
    }
  }
}

async function runCommand (argv: readonly string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const [command, ...args] = argv
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout = (stdout + s).slice(-MAX_OUTPUT) })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr = (stderr + s).slice(-MAX_OUTPUT) })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, STEP_TIMEOUT_MS)
  try {
    return await new Promise((resolve, reject) => {
      child.once('error', reject)
      child.once('close', code => { resolve({ code, stdout, stderr }) })
    })
  } finally {
    clearTimeout(timer)
  }
}

/** The code of the last {"error":{"code":...}} line (or whole output) in `text`. */
function errorCode (text: string): string | undefined {
  for (const candidate of [text, ...text.trim().split('\n').reverse()]) {
    try {
      const code = (JSON.parse(candidate) as { error?: { code?: unknown } }).error?.code
      if (typeof code === 'string') return code
    } catch {
      // not JSON: try the next line
    }
  }
  return undefined
}

function lastLine (text: string): string | undefined {
  const line = text.trim().split('\n').pop()
  return line === undefined || line === '' ? undefined : line.slice(0, 300)
}
