/**
 * Exit codes of the `tmtp` command: a script can tell why a command failed without reading
 * the message. The README lists them; change them together.
 */
export const EXIT = {
  OK: 0,
  /** Bad usage or argument, wrong role, bad or existing configuration. */
  USAGE: 1,
  /** The node is not running (no api.json, a dead pid, or its API does not answer). */
  NOT_RUNNING: 2,
  /** The local API refused the token. */
  AUTH: 3,
  /** Unknown member, message, site or route. */
  NOT_FOUND: 4,
  /** Refused by the protocol or a peer: bad or used invite, blocked, unreachable site. */
  REFUSED: 5,
  /** Anything else: an internal error of the node or of this command. */
  INTERNAL: 6,
  /** `tmtp demo`: something did not arrive exactly once. */
  DEMO_FAILED: 7,
  /** Stopped by SIGINT or SIGTERM before it finished (128 + SIGINT). */
  INTERRUPTED: 130
} as const

export type ExitCode = typeof EXIT[keyof typeof EXIT]

/** An error the command reports on stderr with its stable code and exits with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError'
  readonly code: string
  readonly exitCode: ExitCode

  constructor (exitCode: ExitCode, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.exitCode = exitCode
    this.code = code
  }
}

export function usageError (message: string): CliError {
  return new CliError(EXIT.USAGE, 'INVALID_ARGUMENT', message)
}
