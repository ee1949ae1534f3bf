import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ErrorCode, TmtpError, codeFromWire, codeToWire, isTmtpError } from '../../src/protocol/errors.js'
import { ALL_CODES } from '../support/assertions.js'

describe('protocol/errors', () => {
  describe('ErrorCode', () => {
    it('has the 22 codes of spec/tmtp.proto, each its own name', () => {
      assert.equal(ALL_CODES.length, 22)
      for (const code of ALL_CODES) assert.equal(ErrorCode[code as keyof typeof ErrorCode], code)
      assert.ok(ALL_CODES.includes(ErrorCode.OK))
      assert.ok(ALL_CODES.includes(ErrorCode.WINDOW_EXCEEDED))
      assert.ok(ALL_CODES.includes(ErrorCode.UNKNOWN_BLOB))
    })
  })

  describe('TmtpError', () => {
    it('is an Error with a name, a code and an optional cause', () => {
      const cause = new RangeError('inner')
      const err = new TmtpError(ErrorCode.BAD_FRAME, 'outer', { cause })
      assert.ok(err instanceof Error)
      assert.ok(err instanceof TmtpError)
      assert.equal(err.name, 'TmtpError')
      assert.equal(err.code, ErrorCode.BAD_FRAME)
      assert.equal(err.message, 'outer')
      assert.equal(err.cause, cause)
      assert.equal(new TmtpError(ErrorCode.TIMEOUT, 'x').cause, undefined)
      assert.match(String(err.stack), /TmtpError: outer/)
    })
  })

  describe('isTmtpError', () => {
    it('recognises a TmtpError, with or without a code to match', () => {
      const err = new TmtpError(ErrorCode.EXPIRED, 'old')
      assert.equal(isTmtpError(err), true)
      assert.equal(isTmtpError(err, ErrorCode.EXPIRED), true)
      assert.equal(isTmtpError(err, ErrorCode.BAD_FRAME), false)
    })

    it('rejects everything else, even look-alikes', () => {
      const lookAlike = Object.assign(new Error('x'), { name: 'TmtpError', code: ErrorCode.BAD_FRAME })
      for (const value of [lookAlike, new Error('x'), { code: ErrorCode.BAD_FRAME }, 'BAD_FRAME', null, undefined, 7]) {
        assert.equal(isTmtpError(value), false)
        assert.equal(isTmtpError(value, ErrorCode.BAD_FRAME), false)
      }
    })
  })

  describe('codeToWire / codeFromWire', () => {
    it('carry each code as its number in spec/tmtp.proto', () => {
      assert.deepEqual(ALL_CODES.map(codeToWire), ALL_CODES.map((_, i) => i))
      assert.equal(codeToWire(ErrorCode.OK), 0)
      assert.equal(codeToWire(ErrorCode.DECRYPT_FAILED), 7)
      assert.equal(codeToWire(ErrorCode.WINDOW_EXCEEDED), 20)
      assert.equal(codeToWire(ErrorCode.UNKNOWN_BLOB), 21)
      for (const code of ALL_CODES) assert.equal(codeFromWire(codeToWire(code)), code)
    })

    it('read a code this node does not know as INTERNAL (spec: Versioning)', () => {
      for (const value of [22, 23, 100, 127, 128, 255, 256, 2 ** 31, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, -0.5, 1.5, NaN, Infinity, -Infinity]) {
        assert.equal(codeFromWire(value), ErrorCode.INTERNAL, `codeFromWire(${value})`)
      }
    })

    it('map every uint32 to a known code, its own if it has one (property)', () => {
      fc.assert(fc.property(fc.oneof(fc.nat({ max: 40 }), fc.nat({ max: 2 ** 32 - 1 })), n => {
        const code = codeFromWire(n)
        assert.ok(ALL_CODES.includes(code))
        assert.equal(code, n < ALL_CODES.length ? ALL_CODES[n] : ErrorCode.INTERNAL)
      }), { numRuns: 300 })
    })
  })
})
