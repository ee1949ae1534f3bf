import { CliError, EXIT } from './errors.js'

/**
 * What a command prints: a result on stdout (human text, or JSON with --json), notes and
 * errors on stderr. Nothing here ever sees the API token.
 */
export interface Output {
  readonly json: boolean
  /** Prints the command's result: `data` as JSON with --json, else `human()`. */
  result: (data: unknown, human: () => string) => void
  /** A note for the person at the terminal (stderr; not printed with --json). */
  note: (message: string) => void
}

export function createOutput (json: boolean, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Output {
  return {
    json,
    result (data, human) {
      const text = json ? JSON.stringify(data, null, 2) : human()
      if (text !== '') out.write(text.endsWith('\n') ? text : text + '\n')
    },
    note (message) {
      if (!json) err.write(`${message}\n`)
    }
  }
}

const FILE_ERRORS = new Set(['EACCES', 'EPERM', 'ENOTDIR', 'EISDIR', 'EROFS', 'ENOSPC', 'IDENTITY_UNSAFE'])

/** Prints an error on stderr (as { error: { code, message, exitCode } } with --json) and returns its exit code. */
export function reportError (error: unknown, json: boolean, err: NodeJS.WritableStream = process.stderr): number {
  const code = (error as { code?: unknown } | undefined)?.code
  // a data folder or file the user named that cannot be used is their call to fix
  const exitCode = typeof code === 'string' && FILE_ERRORS.has(code) ? EXIT.USAGE : EXIT.INTERNAL
  const cli = error instanceof CliError
    ? error
    : new CliError(exitCode, typeof code === 'string' ? code : 'INTERNAL', error instanceof Error ? error.message : String(error))
  if (json) {
    err.write(JSON.stringify({ error: { code: cli.code, message: cli.message, exitCode: cli.exitCode } }) + '\n')
  } else {
    err.write(`tmtp: ${cli.message}\n`)
  }
  return cli.exitCode
}

/** A left-aligned text table; cells longer than `max` characters are cut with an ellipsis. */
export function table (headers: string[], rows: Array<Array<string | number | undefined>>, max = 60): string {
  const cells = [headers, ...rows.map(row => row.map(cell => cut(cell === undefined ? '' : String(cell), max)))]
  const widths = headers.map((_, i) => Math.max(...cells.map(row => (row[i] ?? '').length)))
  const line = (row: string[]): string => row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i])).join('  ').trimEnd()
  return [line(cells[0]), line(widths.map(w => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n')
}

/** Label: value lines, labels aligned. */
export function fields (pairs: Array<[string, string | number | undefined]>): string {
  const width = Math.max(...pairs.map(([label]) => label.length))
  return pairs.filter(([, value]) => value !== undefined && value !== '').map(([label, value]) => `${(label + ':').padEnd(width + 1)} ${String(value)}`).join('\n')
}

function cut (text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ')
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat
}

/** A timestamp in milliseconds as local date and time, to the second. */
export function formatTime (ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) return ''
  const d = new Date(ms)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}
