import { ErrorCode } from './pb/tmtp.js'

export { ErrorCode }

const KNOWN_CODES = new Set<unknown>(Object.values(ErrorCode).filter(v => typeof v === 'string'))

/**
 * The one error type of the protocol layers. `code` is the spec's stable error code
 * (spec/tmtp.md, "Error codes"): callers match on it, never on the message text.
 */
export class TmtpError extends Error {
  override readonly name = 'TmtpError'
  readonly code: ErrorCode

  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

export function isTmtpError (err: unknown, code?: ErrorCode): err is TmtpError {
  return err instanceof TmtpError && (code === undefined || err.code === code)
}

/** A code received from a peer: one this node does not know counts as INTERNAL (spec: Versioning). */
export function receivedCode (code: unknown): ErrorCode {
  return typeof code === 'string' && KNOWN_CODES.has(code) ? code as ErrorCode : ErrorCode.INTERNAL
}
