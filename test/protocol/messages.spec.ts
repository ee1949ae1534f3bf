import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { MAX_ACK_IDS, MAX_FRAME_SIZE, MAX_INVITE_ADDRS } from '../../src/protocol/constants.js'
import { ErrorCode, codeFromWire, codeToWire, isTmtpError } from '../../src/protocol/errors.js'
import { decodeCanonical, decodeMessage, pushedEnvelopeHeader, requireLength, requireMaxBytes } from '../../src/protocol/messages.js'
import * as pb from '../../src/protocol/pb/tmtp.js'
import { ALL_CODECS, CODEC_CASES, envelopeHeader } from '../support/arbitraries.js'
import { bytesOf, throwsTmtp } from '../support/assertions.js'
import type { MessageCodec } from '../../src/protocol/messages.js'

interface ProtoField { message: string, name: string, number: number, type: string }

/** The fields of every message of spec/tmtp.proto (enough of a parser for that one file). */
function protoFields (): { messages: string[], enums: Set<string>, fields: ProtoField[] } {
  const text = readFileSync(new URL('../../spec/tmtp.proto', import.meta.url), 'utf8').replace(/\/\/.*$/gm, '')
  const enums = new Set([...text.matchAll(/\benum\s+(\w+)/g)].map(m => m[1]))
  const messages: string[] = []
  const fields: ProtoField[] = []
  for (const m of text.matchAll(/\bmessage\s+(\w+)\s*\{/g)) {
    let depth = 1
    let end = (m.index ?? 0) + m[0].length
    for (; depth > 0; end++) {
      if (end >= text.length) throw new Error(`unbalanced braces in message ${m[1]}`)
      if (text[end] === '{') depth++
      if (text[end] === '}') depth--
    }
    const body = text.slice((m.index ?? 0) + m[0].length, end)
    messages.push(m[1])
    for (const f of body.matchAll(/(?:repeated\s+)?(\w+)\s+(\w+)\s*=\s*(\d+)/g)) {
      fields.push({ message: m[1], type: f[1], name: f[2], number: Number(f[3]) })
    }
  }
  return { messages, enums, fields }
}

function tag (field: number, wireType: number): number[] {
  const out: number[] = []
  let v = field * 8 + wireType
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80)
    v = Math.floor(v / 128)
  }
  out.push(v)
  return out
}

/** A well-formed value of each wire type. */
const WIRE_VALUE: Record<number, number[]> = { 0: [1], 1: [0, 0, 0, 0, 0, 0, 0, 0], 2: [1, 0x61], 5: [0, 0, 0, 0] }

describe('protocol/messages', () => {
  describe('every message of spec/tmtp.proto', () => {
    for (const { name, codec, arbitrary } of CODEC_CASES) {
      it(`${name}: decode(encode(x)) equals x, and encoding is deterministic`, () => {
        fc.assert(fc.property(arbitrary(), value => {
          const encoded = codec.encode(value)
          const decoded = decodeMessage(codec, encoded, name)
          assert.deepStrictEqual(decoded, value)
          assert.deepStrictEqual(codec.encode(decoded), encoded)
        }), { numRuns: 120 })
      })
    }

    it('decodes an empty buffer to the default value of each message', () => {
      for (const { name, codec } of ALL_CODECS) {
        const value = decodeMessage(codec, new Uint8Array(0), name)
        assert.deepStrictEqual(codec.encode(value), new Uint8Array(0), name)
      }
      assert.deepStrictEqual(pb.JoinResponse.decode(new Uint8Array(0)), { code: 0, memberId: '', siteName: '', detail: '' })
      assert.deepStrictEqual(pb.Push.decode(new Uint8Array(0)), {})
      assert.deepStrictEqual(pb.Receipt.decode(new Uint8Array(0)), {})
    })

    it('uses the field numbers and wire types of the proto', () => {
      // Leave { site = 1 (bytes), device = 2 (bytes), time = 3 (uint64) }
      assert.deepEqual(pb.Leave.encode({ site: bytesOf(0xaa), device: bytesOf(0xbb), time: 300 }), bytesOf(0x0a, 1, 0xaa, 0x12, 1, 0xbb, 0x18, 0xac, 0x02))
      // Reject { id = 1, code = 2 (uint32), detail = 3 }: DECRYPT_FAILED is 7
      assert.deepEqual(pb.Reject.encode({ id: bytesOf(1), code: codeToWire(ErrorCode.DECRYPT_FAILED), detail: 'x' }), bytesOf(0x0a, 1, 1, 0x10, 7, 0x1a, 1, 0x78))
      // Receipt { error = 3 (StreamError { code = 1 }) }: WINDOW_EXCEEDED is 20
      assert.deepEqual(pb.Receipt.encode({ error: { code: codeToWire(ErrorCode.WINDOW_EXCEEDED), detail: '' } }), bytesOf(0x1a, 2, 0x08, 20))
      // AddressRecord { peer = 1, addrs = 2 (repeated), seq = 3, expires = 4 }
      assert.deepEqual(pb.AddressRecord.encode({ peer: bytesOf(1), addrs: [bytesOf(2), bytesOf()], seq: 3, expires: 4 }), bytesOf(0x0a, 1, 1, 0x12, 1, 2, 0x12, 0, 0x18, 3, 0x20, 4))
      // Push { envelope = 2 }
      assert.deepEqual(pb.Push.encode({ envelope: { header: bytesOf(5), ciphertext: new Uint8Array(0) } }), bytesOf(0x12, 3, 0x0a, 1, 5))
      // uint64 up to 2^53 - 1 as a JS number
      assert.deepEqual(pb.Leave.encode({ time: Number.MAX_SAFE_INTEGER }), bytesOf(0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f))
      assert.equal(pb.Leave.decode(bytesOf(0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f)).time, Number.MAX_SAFE_INTEGER)
    })

    it('skips fields it does not know (forward compatibility)', () => {
      const known = pb.Leave.encode({ site: bytesOf(1), device: bytesOf(2), time: 3 })
      const unknownFields = bytesOf(
        0x20, 0x05, // field 4, varint
        0x2a, 0x02, 0x01, 0x02, // field 5, length-delimited
        0x35, 1, 2, 3, 4, // field 6, fixed32
        0x39, 1, 2, 3, 4, 5, 6, 7, 8 // field 7, fixed64
      )
      const withUnknown = Uint8Array.from([...unknownFields.subarray(0, 2), ...known, ...unknownFields.subarray(2)])
      assert.deepStrictEqual(decodeMessage(pb.Leave, withUnknown, 'leave'), pb.Leave.decode(known))
    })

    it('lets the last occurrence of a scalar field win', () => {
      const twice = bytesOf(0x18, 1, 0x18, 2)
      assert.equal(decodeMessage(pb.Leave, twice, 'leave').time, 2)
    })
  })

  describe('decodeMessage', () => {
    it('turns every decoder failure into BAD_FRAME, keeping the cause', () => {
      const cases: Array<[string, Uint8Array]> = [
        ['truncated varint', bytesOf(0x18, 0x80)],
        ['length beyond the end', bytesOf(0x0a, 5, 1, 2)],
        ['wire type 7', bytesOf(0x0f)],
        ['end group without start', bytesOf(0x0c)],
        ['uint64 above 2^53', bytesOf(0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)],
        ['uint64 of ten bytes', bytesOf(0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)]
      ]
      for (const [what, bytes] of cases) {
        const err = throwsTmtp(() => decodeMessage(pb.Leave, bytes, 'leave'), ErrorCode.BAD_FRAME)
        assert.ok(err.cause instanceof Error, what)
        assert.match(err.message, /^malformed leave: /, what)
      }
    })

    it('decodes an error code this node does not know, which then reads as INTERNAL', () => {
      for (const codec of [pb.JoinResponse, pb.StreamError, pb.Result]) {
        // 22: the first code past UNKNOWN_BLOB (21, since r4)
        const value = decodeMessage<{ code: number }>(codec, bytesOf(0x08, 22), 'frame')
        assert.equal(value.code, 22)
        assert.equal(codeFromWire(value.code), ErrorCode.INTERNAL)
        assert.equal(decodeMessage<{ code: number }>(codec, bytesOf(0x08, 0xff, 0xff, 0xff, 0xff, 0x0f), 'frame').code, 2 ** 32 - 1)
      }
      const reject = decodeMessage(pb.Reject, bytesOf(0x10, 99), 'reject')
      assert.equal(codeFromWire(reject.code), ErrorCode.INTERNAL)
      const receipt = decodeCanonical(pb.Receipt, pb.Receipt.encode({ reject: { id: bytesOf(1), code: 1000, detail: '' } }), 'receipt')
      assert.equal(codeFromWire(receipt.reject?.code ?? 0), ErrorCode.INTERNAL)
    })

    it('survives groups nested deeper than the call stack (BAD_FRAME)', () => {
      // field 15, wire type 3 (start group), repeated: each opens a group inside the last
      const deep = new Uint8Array(MAX_FRAME_SIZE).fill(0x7b)
      for (const { name, codec } of ALL_CODECS) {
        throwsTmtp(() => decodeMessage(codec, deep, name), ErrorCode.BAD_FRAME)
      }
    })

    it('enforces repeated-field limits passed in the options', () => {
      const invite = pb.Invite.encode({ addrs: Array.from({ length: MAX_INVITE_ADDRS + 1 }, () => bytesOf(1)) })
      assert.equal(pb.Invite.decode(invite).addrs.length, MAX_INVITE_ADDRS + 1)
      throwsTmtp(() => decodeMessage(pb.Invite, invite, 'invite', { limits: { addrs: MAX_INVITE_ADDRS } }), ErrorCode.BAD_FRAME)
      const ids = (n: number): Uint8Array => pb.AckBody.encode({ ids: Array.from({ length: n }, () => new Uint8Array(16)) })
      assert.equal(decodeMessage(pb.AckBody, ids(MAX_ACK_IDS), 'ack', { limits: { ids: MAX_ACK_IDS } }).ids.length, MAX_ACK_IDS)
      throwsTmtp(() => decodeMessage(pb.AckBody, ids(MAX_ACK_IDS + 1), 'ack', { limits: { ids: MAX_ACK_IDS } }), ErrorCode.BAD_FRAME)
    })

    it('decodes the Content and the EnvelopeHeader in its own pass as protons does, for any bytes (property)', () => {
      const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constant('\uFEFFwith a byte-order mark'))
      const u64 = fc.oneof(fc.nat(), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }))
      const attachment = fc.record({ blob: fc.uint8Array({ maxLength: 20 }), name: text, mediaType: text, size: u64, sha256: fc.uint8Array({ maxLength: 40 }), key: fc.uint8Array({ maxLength: 40 }) })
      const content = fc.record({ subject: text, body: text, contentType: text, thread: fc.uint8Array({ maxLength: 20 }), replyTo: fc.uint8Array({ maxLength: 20 }), group: text, attachments: fc.array(attachment, { maxLength: 3 }) }, { requiredKeys: [] })
      const header = fc.record({ version: fc.nat(), id: fc.uint8Array({ maxLength: 20 }), sender: fc.uint8Array({ maxLength: 40 }), recipient: fc.uint8Array({ maxLength: 40 }), epoch: u64, seq: u64, created: u64, expires: u64 }, { requiredKeys: [] })
      const same = <T>(codec: MessageCodec<T>, bytes: Uint8Array): void => {
        let expected: T | Error
        try {
          expected = codec.decode(bytes)
        } catch (err) {
          expected = err as Error
        }
        let actual: T | undefined
        try {
          actual = decodeMessage(codec, bytes, 'message')
        } catch (err) {
          assert.ok(isTmtpError(err) && err.code === ErrorCode.BAD_FRAME, String(err))
        }
        // refused bytes: protons may read them differently (checkWire exists for that), never the other way round
        if (actual !== undefined) assert.deepStrictEqual(actual, expected)
      }
      // a message as protons encodes it decodes to protons' value; with any byte altered, the same or BAD_FRAME
      const agrees = <T>(codec: MessageCodec<T>, values: fc.Arbitrary<Partial<T>>): void => {
        fc.assert(fc.property(values, fc.nat(), fc.nat(255), (value, at, byte) => {
          const bytes = codec.encode(value)
          assert.deepStrictEqual(decodeMessage(codec, bytes, 'message'), codec.decode(bytes))
          const altered = Uint8Array.from(bytes)
          if (altered.byteLength > 0) altered[at % altered.byteLength] = byte
          same(codec, altered)
        }), { numRuns: 500 })
      }
      agrees(pb.Content, content)
      agrees(pb.EnvelopeHeader, header)
      // the last of a repeated field wins, unknown fields (8, a varint) are skipped, absent ones are defaults
      const twice = bytesOf(...pb.Content.encode({ subject: 'a' }), ...pb.Content.encode({ subject: 'b' }), 0x40, 1)
      assert.deepStrictEqual(decodeMessage(pb.Content, twice, 'content'), pb.Content.decode(twice))
      assert.equal(decodeMessage(pb.Content, twice, 'content').subject, 'b')
    })

    it('reads the header of the envelope in a Push frame as protons decodes it; BAD_FRAME without one (pushedEnvelopeHeader)', () => {
      fc.assert(fc.property(envelopeHeader(), fc.uint8Array({ maxLength: 64 }), (header, ciphertext) => {
        const frame = pb.Push.encode({ envelope: { header: pb.EnvelopeHeader.encode(header), ciphertext } })
        assert.deepStrictEqual(pushedEnvelopeHeader(frame), pb.EnvelopeHeader.decode(pb.Push.decode(frame).envelope?.header ?? new Uint8Array(0)))
      }), { numRuns: 200 })
      throwsTmtp(() => pushedEnvelopeHeader(pb.Push.encode({ epoch: { payload: new Uint8Array(4), signature: new Uint8Array(64) } })), ErrorCode.BAD_FRAME)
      throwsTmtp(() => pushedEnvelopeHeader(bytesOf(0x12, 0x05, 0x0a)), ErrorCode.BAD_FRAME)
    })

    it('returns the value of a well-formed message', () => {
      const value = decodeMessage(pb.Result, pb.Result.encode({ code: codeToWire(ErrorCode.NOT_MEMBER), detail: 'no' }), 'result')
      assert.deepStrictEqual(value, { code: 10, detail: 'no' })
    })
  })

  describe('wire format strictness', () => {
    const proto = protoFields()
    const codecOf = (message: string): MessageCodec<any> => (pb as unknown as Record<string, MessageCodec<any>>)[message]

    it('knows every message of spec/tmtp.proto', () => {
      assert.equal(proto.messages.length, 21)
      for (const message of proto.messages) assert.equal(typeof codecOf(message)?.decode, 'function', message)
      assert.equal(proto.fields.length, 79)
    })

    it('decodes every field of the proto with its declared wire type', () => {
      for (const f of proto.fields) {
        const codec = codecOf(f.message)
        const scalar = ['uint32', 'uint64', 'bool'].includes(f.type) || proto.enums.has(f.type)
        const frame = Uint8Array.from([...tag(f.number, scalar ? 0 : 2), ...(scalar ? [1] : proto.messages.includes(f.type) ? [0] : [1, 0x61])])
        const value = decodeMessage(codec, frame, f.message)
        assert.notDeepEqual(value, codec.decode(new Uint8Array(0)), `${f.message}.${f.name} = ${f.number}`)
      }
    })

    it('refuses a known field with another wire type (BAD_FRAME), which protons would read anyway', () => {
      for (const f of proto.fields) {
        const codec = codecOf(f.message)
        const declared = ['uint32', 'uint64', 'bool'].includes(f.type) || proto.enums.has(f.type) ? 0 : 2
        for (const wireType of [0, 1, 2, 5]) {
          if (wireType === declared) continue
          const frame = Uint8Array.from([...tag(f.number, wireType), ...WIRE_VALUE[wireType]])
          throwsTmtp(() => decodeMessage(codec, frame, f.message), ErrorCode.BAD_FRAME)
        }
      }
      // the flip of one wire-type bit of a tag used to go unnoticed: 0x0a -> 0x0e / 0x08 / 0x0b
      const signed = pb.SignedPayload.encode({ payload: bytesOf(8, 1), signature: new Uint8Array(64) })
      for (const t of [0x0e, 0x08, 0x0b]) throwsTmtp(() => decodeMessage(pb.SignedPayload, Uint8Array.from([t, ...signed.subarray(1)]), 'x'), ErrorCode.BAD_FRAME)
    })

    it('checks the messages embedded in Push and Receipt as well', () => {
      const envelope = pb.Envelope.encode({ header: bytesOf(1), ciphertext: bytesOf(2) })
      const push = (inner: Uint8Array): Uint8Array => Uint8Array.from([0x12, inner.byteLength, ...inner])
      decodeMessage(pb.Push, push(envelope), 'push')
      throwsTmtp(() => decodeMessage(pb.Push, push(Uint8Array.from([0x0d, ...envelope.subarray(1)])), 'push'), ErrorCode.BAD_FRAME)
      const reject = Uint8Array.from([0x12, 3, 0x10, 0xff, 0x00]) // Receipt.reject with a non-minimal code
      throwsTmtp(() => decodeMessage(pb.Receipt, reject, 'receipt'), ErrorCode.BAD_FRAME)
    })

    it('accepts unknown fields of wire types 0, 1, 2 and 5, refuses groups and wire types 6 and 7', () => {
      const leave = pb.Leave.encode({ site: bytesOf(1), device: bytesOf(2), time: 3 })
      for (const wireType of [0, 1, 2, 5]) {
        const frame = Uint8Array.from([...leave, ...tag(1000, wireType), ...WIRE_VALUE[wireType]])
        assert.deepStrictEqual(decodeMessage(pb.Leave, frame, 'leave'), pb.Leave.decode(leave))
      }
      // an unknown varint field may be non-minimal: it is skipped byte by byte
      decodeMessage(pb.Leave, Uint8Array.from([...leave, 0x20, 0x81, 0x00]), 'leave')
      for (const extra of [[...tag(9, 3), ...tag(9, 4)], tag(9, 4), [...tag(9, 6), 0], [...tag(9, 7), 0]]) {
        throwsTmtp(() => decodeMessage(pb.Leave, Uint8Array.from([...leave, ...extra]), 'leave'), ErrorCode.BAD_FRAME)
      }
    })

    it('refuses field number 0 and field numbers beyond 2^29 - 1 (BAD_FRAME)', () => {
      throwsTmtp(() => decodeMessage(pb.Leave, bytesOf(0x00, 0x00), 'leave'), ErrorCode.BAD_FRAME)
      throwsTmtp(() => decodeMessage(pb.Leave, bytesOf(0x02, 0x00), 'leave'), ErrorCode.BAD_FRAME)
      // a 5-byte tag whose value needs more than 32 bits: protons would truncate it to field 3
      throwsTmtp(() => decodeMessage(pb.Leave, bytesOf(0x98, 0x80, 0x80, 0x80, 0x10, 0x01), 'leave'), ErrorCode.BAD_FRAME)
      decodeMessage(pb.Leave, Uint8Array.from([...tag(0x1fffffff, 0), 1]), 'leave')
    })

    it('refuses a non-minimal or overlong varint in a known integer field (BAD_FRAME)', () => {
      // protons would read time = 1 and then take the 0x00 for the next tag
      throwsTmtp(() => decodeMessage(pb.Leave, bytesOf(0x18, 0x81, 0x00, 0x00, 0x00), 'leave'), ErrorCode.BAD_FRAME)
      throwsTmtp(() => decodeMessage(pb.Leave, bytesOf(0x18, 0x80, 0x00, 0x0a, 0x00), 'leave'), ErrorCode.BAD_FRAME)
      // a uint32 of 6 bytes: protons would skip a fixed 10 and land inside the next field
      const version6 = bytesOf(0x08, 0x81, 0x80, 0x80, 0x80, 0x80, 0x01, 0x12, 0x00)
      throwsTmtp(() => decodeMessage(pb.EnvelopeHeader, version6, 'header'), ErrorCode.BAD_FRAME)
      throwsTmtp(() => decodeMessage(pb.EnvelopeHeader, bytesOf(0x08, 0x81, 0x00), 'header'), ErrorCode.BAD_FRAME)
      // minimal encodings at the edges still decode
      assert.equal(decodeMessage(pb.EnvelopeHeader, bytesOf(0x08, 0xff, 0xff, 0xff, 0xff, 0x0f), 'header').version, 2 ** 32 - 1)
      assert.equal(decodeMessage(pb.Leave, bytesOf(0x18, 0x00), 'leave').time, 0)
    })

    it('refuses a length that runs past the end, however it is encoded (BAD_FRAME)', () => {
      throwsTmtp(() => decodeMessage(pb.Leave, bytesOf(0x0a, 0x83, 0x80, 0x80, 0x80, 0x10, 1, 2, 3), 'leave'), ErrorCode.BAD_FRAME)
      throwsTmtp(() => decodeMessage(pb.Leave, bytesOf(0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), 'leave'), ErrorCode.BAD_FRAME)
      // a non-minimal length is read right by protons and accepted
      assert.deepEqual(decodeMessage(pb.Leave, bytesOf(0x0a, 0x81, 0x00, 7), 'leave').site, bytesOf(7))
    })
  })

  describe('decodeCanonical (the wrappers SignedPayload, Envelope, Push, Receipt)', () => {
    const wrappers = CODEC_CASES.filter(c => /^(SignedPayload|Envelope|Push|Receipt)\b/.test(c.name) && !c.name.includes('no arm'))

    it('accepts the canonical encoding of any value (property)', () => {
      for (const { name, codec, arbitrary } of wrappers) {
        fc.assert(fc.property(arbitrary(), value => {
          assert.deepStrictEqual(decodeCanonical(codec, codec.encode(value), name), value)
        }), { numRuns: 60 })
      }
    })

    it('refuses every other encoding of the same value (BAD_FRAME)', () => {
      const canonical = pb.SignedPayload.encode({ payload: bytesOf(1), signature: bytesOf(2) })
      assert.deepEqual(canonical, bytesOf(0x0a, 1, 1, 0x12, 1, 2))
      const others = [
        bytesOf(0x12, 1, 2, 0x0a, 1, 1), // fields out of order
        bytesOf(0x0a, 1, 9, 0x0a, 1, 1, 0x12, 1, 2), // a field repeated (the last wins)
        bytesOf(0x0a, 0x81, 0x00, 1, 0x12, 1, 2), // non-minimal length
        bytesOf(0x0a, 1, 1, 0x12, 1, 2, 0x18, 0), // unknown field
        bytesOf(0x0a, 1, 1, 0x12, 1, 2, 0x1a, 0) // unknown empty field
      ]
      for (const bytes of others) {
        assert.deepStrictEqual(decodeMessage(pb.SignedPayload, bytes, 'x'), decodeMessage(pb.SignedPayload, canonical, 'x'), 'a plain decoder reads the same value')
        throwsTmtp(() => decodeCanonical(pb.SignedPayload, bytes, 'x'), ErrorCode.BAD_FRAME)
      }
      // a field at its default value written out
      throwsTmtp(() => decodeCanonical(pb.Envelope, bytesOf(0x0a, 0, 0x12, 1, 2), 'x'), ErrorCode.BAD_FRAME)
    })

    it('refuses a Push or Receipt with more than one member of the oneof set (BAD_FRAME)', () => {
      const epoch = [...pb.SignedPayload.encode({ payload: bytesOf(1), signature: bytesOf(2) })]
      const envelope = [...pb.Envelope.encode({ header: bytesOf(3), ciphertext: bytesOf(4) })]
      for (const bytes of [[0x0a, epoch.length, ...epoch, 0x12, envelope.length, ...envelope], [0x12, envelope.length, ...envelope, 0x0a, epoch.length, ...epoch]]) {
        throwsTmtp(() => decodeCanonical(pb.Push, Uint8Array.from(bytes), 'push'), ErrorCode.BAD_FRAME)
      }
      const error = [...pb.StreamError.encode({ code: 1, detail: '' })]
      throwsTmtp(() => decodeCanonical(pb.Receipt, Uint8Array.from([0x0a, epoch.length, ...epoch, 0x1a, error.length, ...error]), 'receipt'), ErrorCode.BAD_FRAME)
    })

    it('refuses an unknown field inside a nested wrapper (BAD_FRAME)', () => {
      const envelope = [...pb.Envelope.encode({ header: bytesOf(3), ciphertext: bytesOf(4) }), 0x18, 1]
      throwsTmtp(() => decodeCanonical(pb.Push, Uint8Array.from([0x12, envelope.length, ...envelope]), 'push'), ErrorCode.BAD_FRAME)
    })

    it('decides as encoding the decoded value again and comparing would, for any bytes near a canonical encoding (property)', () => {
      const cases = wrappers.map(({ name, codec, arbitrary }) => arbitrary().map(value => ({ name, codec, value })))
      const edit = fc.oneof(
        fc.record({ at: fc.nat(), byte: fc.nat(255) }).map(e => (b: number[]) => { if (b.length > 0) b[e.at % b.length] = e.byte }),
        fc.record({ at: fc.nat(), bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 4 }) }).map(e => (b: number[]) => { b.splice(e.at % (b.length + 1), 0, ...e.bytes) }),
        fc.record({ at: fc.nat(), n: fc.integer({ min: 1, max: 3 }) }).map(e => (b: number[]) => { b.splice(e.at % (b.length + 1), e.n) })
      )
      fc.assert(fc.property(fc.oneof(...cases), fc.array(edit, { minLength: 1, maxLength: 3 }), ({ name, codec, value }, edits) => {
        const list = [...codec.encode(value)]
        for (const e of edits) e(list)
        const bytes = Uint8Array.from(list)
        let reference: boolean
        try {
          reference = Buffer.from(codec.encode(decodeMessage(codec, bytes, name))).equals(bytes)
        } catch {
          reference = false
        }
        let accepted = true
        try {
          decodeCanonical(codec, bytes, name)
        } catch (err) {
          assert.ok(isTmtpError(err, ErrorCode.BAD_FRAME), String(err))
          accepted = false
        }
        assert.equal(accepted, reference, `${name} ${Buffer.from(bytes).toString('hex')}`)
      }), { numRuns: 3000 })
    })

    it('never decodes a single-bit change of a wrapper to the same value (property)', () => {
      const cases = wrappers.map(({ name, codec, arbitrary }) => arbitrary().filter(v => codec.encode(v).byteLength > 0).map(value => ({ name, codec, value })))
      fc.assert(fc.property(fc.oneof(...cases), fc.nat(), ({ name, codec, value }, at) => {
        const bytes = codec.encode(value)
        const bit = at % (bytes.byteLength * 8)
        const tampered = Uint8Array.from(bytes)
        tampered[bit >> 3] ^= 0x80 >> (bit & 7)
        let decoded: unknown
        try {
          decoded = decodeCanonical(codec, tampered, name)
        } catch (err) {
          assert.ok(isTmtpError(err, ErrorCode.BAD_FRAME), String(err))
          return
        }
        assert.notDeepStrictEqual(decoded, value)
      }), { numRuns: 500 })
    })
  })

  describe('requireLength', () => {
    it('accepts exactly the length and refuses any other (BAD_FRAME)', () => {
      requireLength(new Uint8Array(16), 16, 'id')
      requireLength(new Uint8Array(0), 0, 'nothing')
      for (const n of [0, 1, 15, 17, 32]) {
        const err = throwsTmtp(() => requireLength(new Uint8Array(n), 16, 'message id'), ErrorCode.BAD_FRAME)
        assert.match(err.message, /message id/)
      }
    })
  })

  describe('requireMaxBytes', () => {
    it('measures any string as its UTF-8 encoding does (property: with or without the shortcut for short strings)', () => {
      fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' })), fc.nat(120), (value, max) => {
        const fits = new TextEncoder().encode(value).byteLength <= max
        if (fits) requireMaxBytes(value, max, 'x')
        else throwsTmtp(() => requireMaxBytes(value, max, 'x'), ErrorCode.BAD_FRAME)
      }), { numRuns: 500 })
    })

    it('counts UTF-8 bytes, not UTF-16 code units', () => {
      requireMaxBytes('', 0, 'x')
      requireMaxBytes('a'.repeat(10), 10, 'x')
      throwsTmtp(() => requireMaxBytes('a'.repeat(11), 10, 'x'), ErrorCode.BAD_FRAME)
      // é is 2 bytes, € 3, 😀 4 (two code units)
      requireMaxBytes('é'.repeat(5), 10, 'x')
      throwsTmtp(() => requireMaxBytes('é'.repeat(5) + 'a', 10, 'x'), ErrorCode.BAD_FRAME)
      requireMaxBytes('€'.repeat(3) + 'a', 10, 'x')
      throwsTmtp(() => requireMaxBytes('€'.repeat(4), 10, 'x'), ErrorCode.BAD_FRAME)
      requireMaxBytes('😀'.repeat(2) + 'ab', 10, 'x')
      throwsTmtp(() => requireMaxBytes('😀'.repeat(3), 10, 'x'), ErrorCode.BAD_FRAME)
      // a lone surrogate becomes U+FFFD, 3 bytes, on the wire
      requireMaxBytes('\ud800', 3, 'x')
      throwsTmtp(() => requireMaxBytes('\ud800', 2, 'x'), ErrorCode.BAD_FRAME)
    })

    it('agrees with the UTF-8 length for any string (property)', () => {
      const encoder = new TextEncoder()
      fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', '\ud800', '\udc00'), maxLength: 20 }), fc.nat({ max: 60 }), (s, max) => {
        let err: unknown
        try {
          requireMaxBytes(s, max, 'x')
        } catch (e) {
          err = e
        }
        const fits = encoder.encode(s).byteLength <= max
        assert.equal(err === undefined, fits)
        if (err !== undefined) assert.ok(isTmtpError(err, ErrorCode.BAD_FRAME))
      }), { numRuns: 300 })
    })
  })

  describe('string fields', () => {
    it('refuses bytes that are not UTF-8 in every string field, accepts valid UTF-8', () => {
      // Content.subject (field 1) as three 0x80 bytes: protons would decode U+FFFD three times
      throwsTmtp(() => decodeMessage(pb.Content, Uint8Array.of(0x0a, 3, 0x80, 0x80, 0x80), 'content'), ErrorCode.BAD_FRAME)
      throwsTmtp(() => decodeMessage(pb.Invite, Uint8Array.of(0x32, 2, 0xc3, 0x28), 'invite'), ErrorCode.BAD_FRAME)
      throwsTmtp(() => decodeMessage(pb.Receipt, Uint8Array.of(0x1a, 5, 0x08, 1, 0x12, 1, 0xff), 'receipt'), ErrorCode.BAD_FRAME)
      assert.equal(decodeMessage(pb.Content, Uint8Array.of(0x0a, 2, 0xc3, 0xa9), 'content').subject, 'é')
    })
  })
})
