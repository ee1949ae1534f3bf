import assert from 'node:assert/strict'
import { ErrorCode, TmtpError, isTmtpError } from '../../src/protocol/errors.js'

/**
 * Shared assertions of the protocol and crypto tests. A "TmtpError" assertion checks the
 * class, not the message text: callers of the protocol layers match on `code` only.
 */

function describeError (err: unknown): string {
  if (err instanceof Error) return `${err.constructor.name}: ${err.message}`
  return String(err)
}

function checkCode (err: TmtpError, code: ErrorCode | readonly ErrorCode[] | undefined): void {
  if (code === undefined) return
  const codes = Array.isArray(code) ? code : [code]
  assert.ok(codes.includes(err.code), `expected ${codes.join(' or ')}, got ${err.code}: ${err.message}`)
}

/** Calls fn, which must throw a TmtpError (with one of the given codes, if any). */
export function throwsTmtp (fn: () => unknown, code?: ErrorCode | readonly ErrorCode[]): TmtpError {
  let result: unknown
  try {
    result = fn()
  } catch (err) {
    assert.ok(isTmtpError(err), `expected a TmtpError, got ${describeError(err)}`)
    checkCode(err, code)
    return err
  }
  assert.fail(`expected a TmtpError${code === undefined ? '' : ` (${String(code)})`}, but the call returned ${String(result)}`)
}

/** Awaits fn, which must reject with a TmtpError (with one of the given codes, if any). */
export async function rejectsTmtp (fn: () => Promise<unknown>, code?: ErrorCode | readonly ErrorCode[]): Promise<TmtpError> {
  let result: unknown
  try {
    result = await fn()
  } catch (err) {
    assert.ok(isTmtpError(err), `expected a TmtpError, got ${describeError(err)}`)
    checkCode(err, code)
    return err
  }
  assert.fail(`expected a TmtpError${code === undefined ? '' : ` (${String(code)})`}, but the call resolved to ${String(result)}`)
}

/**
 * For decoders fed untrusted input: fn may return, or throw a TmtpError, and nothing else.
 * Returns the error, if any, so a property can say more about it.
 */
export function onlyTmtpErrors (fn: () => unknown): TmtpError | undefined {
  try {
    fn()
    return undefined
  } catch (err) {
    if (isTmtpError(err)) return err
    assert.fail(`a decoder threw ${describeError(err)} instead of a TmtpError`)
  }
}

export async function onlyTmtpRejections (fn: () => Promise<unknown>): Promise<TmtpError | undefined> {
  try {
    await fn()
    return undefined
  } catch (err) {
    if (isTmtpError(err)) return err
    assert.fail(`a decoder rejected with ${describeError(err)} instead of a TmtpError`)
  }
}

/** A copy of bytes with bit `bit` (0 = most significant bit of byte 0) inverted. */
export function flipBit (bytes: Uint8Array, bit: number): Uint8Array<ArrayBuffer> {
  const out = Uint8Array.from(bytes)
  out[bit >> 3] ^= 0x80 >> (bit & 7)
  return out
}

export function bytesOf (...values: number[]): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(values)
}

export function hex (text: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'))
}

export function toHex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Every error code the protocol defines. */
export const ALL_CODES: readonly ErrorCode[] = Object.values(ErrorCode).filter((v): v is ErrorCode => typeof v === 'string')
