/**
 * Errors of the library API (what a site backend or the CLI asked for is not possible).
 * Protocol faults are TmtpError (src/protocol/errors.ts); both carry a stable `code`.
 */
export type NodeErrorCode =
  | 'INVALID_ARGUMENT'
  | 'UNKNOWN_MEMBER'
  | 'UNKNOWN_MESSAGE'
  | 'UNKNOWN_SITE'
  | 'NO_DEVICES'
  | 'NOT_RUNNING'
  | 'IDENTITY_UNSAFE'
  | 'WRONG_ROLE'
  | 'NO_KEY_EPOCH'
  | 'UNREACHABLE'
  | 'QUEUE_FULL'

export class NodeError extends Error {
  override readonly name = 'NodeError'
  readonly code: NodeErrorCode

  constructor (code: NodeErrorCode, message: string) {
    super(message)
    this.code = code
  }
}
