import { Command, InvalidArgumentError } from 'commander'
import { dataDir } from '../config.js'
import { usageError } from '../errors.js'
import { createOutput, type Output } from '../output.js'

export interface CommonOptions {
  data?: string
  json?: boolean
}

/** A subcommand with the options every command takes: --data DIR and --json. */
export function command (name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .option('--data <dir>', 'data folder (default: $TMTP_DATA, $XDG_DATA_HOME/tmtp or ~/.local/share/tmtp)')
    .option('--json', 'print the result as JSON')
}

export interface Context {
  dir: string
  out: Output
}

export function context (opts: CommonOptions): Context {
  return { dir: dataDir(opts.data), out: createOutput(opts.json === true) }
}

/** commander argument parsers: a bad value is a usage error (exit code 1). */
export function parsePort (value: string): number {
  const port = Number(value)
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('a port is 0 to 65535 (0: any free port)')
  return port
}

export function parsePositiveInt (value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 1 || !Number.isSafeInteger(n)) throw new InvalidArgumentError('a positive whole number')
  return n
}

/** A quick shape check while parsing; checkMultiaddrs() parses them fully. */
export function parseMultiaddr (value: string, previous: string[] | undefined): string[] {
  if (!value.startsWith('/')) throw new InvalidArgumentError(`${JSON.stringify(value)} is not a multiaddr: use e.g. /ip4/0.0.0.0/tcp/4001`)
  return [...(previous ?? []), value]
}

/** Parses each multiaddr (loaded on demand: most commands never need the parser). */
export async function checkMultiaddrs (values: string[] | undefined, option: string): Promise<void> {
  if (values === undefined) return
  const { multiaddr } = await import('@multiformats/multiaddr')
  for (const value of values) {
    try {
      multiaddr(value)
    } catch (err) {
      throw usageError(`${option} ${JSON.stringify(value)} is not a multiaddr (${(err as Error).message}): use e.g. /ip4/0.0.0.0/tcp/4001`)
    }
  }
}

/** --to a,b --to c: every reference, split on commas. */
export function parseList (value: string, previous: string[] | undefined): string[] {
  const items = value.split(',').map(s => s.trim()).filter(s => s !== '')
  if (items.length === 0) throw new InvalidArgumentError('an empty list')
  return [...(previous ?? []), ...items]
}

/** A repeatable option whose values are kept whole (a group's name may hold a comma). */
export function collect (value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}
