/**
 * Codes of the library API's errors: what a site backend or the command asked for is not
 * possible. Protocol faults are TmtpError (src/protocol/errors.ts); both carry a stable
 * `code`, and the HTTP layer maps each to a status in one place (src/api/errors.ts).
 */
export const NODE_ERROR_CODES = [
  'INVALID_ARGUMENT',
  'UNKNOWN_MEMBER',
  'UNKNOWN_MESSAGE',
  'UNKNOWN_SITE',
  'UNKNOWN_GROUP',
  'GROUP_NAME_TAKEN',
  'INVALID_GROUP_NAME',
  'TOO_MANY_MEMBERS',
  'NO_DEVICES',
  'NOT_RUNNING',
  'IDENTITY_UNSAFE',
  'WRONG_ROLE',
  'NO_KEY_EPOCH',
  'UNREACHABLE',
  'QUEUE_FULL',
  'UNKNOWN_ATTACHMENT',
  'ATTACHMENT_TOO_LARGE',
  'ATTACHMENTS_TOO_LARGE',
  'ATTACHMENT_STORE_FULL',
  'ATTACHMENTS_NOT_SUPPORTED'
] as const

export type NodeErrorCode = typeof NODE_ERROR_CODES[number]

/** An error of the library API, thrown where the fault is found; options and arguments alike. */
export class NodeError extends Error {
  override readonly name = 'NodeError'
  readonly code: NodeErrorCode

  constructor (code: NodeErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}
