import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export enum ErrorCode {
  OK = 'OK',
  BAD_FRAME = 'BAD_FRAME',
  FRAME_TOO_LARGE = 'FRAME_TOO_LARGE',
  UNSUPPORTED_VERSION = 'UNSUPPORTED_VERSION',
  BAD_SIGNATURE = 'BAD_SIGNATURE',
  WRONG_SIGNER = 'WRONG_SIGNER',
  WRONG_RECIPIENT = 'WRONG_RECIPIENT',
  DECRYPT_FAILED = 'DECRYPT_FAILED',
  EXPIRED = 'EXPIRED',
  UNKNOWN_EPOCH = 'UNKNOWN_EPOCH',
  NOT_MEMBER = 'NOT_MEMBER',
  BLOCKED = 'BLOCKED',
  INVITE_UNKNOWN = 'INVITE_UNKNOWN',
  INVITE_USED = 'INVITE_USED',
  RATE_LIMITED = 'RATE_LIMITED',
  STORAGE_FAILURE = 'STORAGE_FAILURE',
  TIMEOUT = 'TIMEOUT',
  INTERNAL = 'INTERNAL',
  BAD_TOKEN = 'BAD_TOKEN',
  BAD_TIMESTAMP = 'BAD_TIMESTAMP',
  WINDOW_EXCEEDED = 'WINDOW_EXCEEDED',
  UNKNOWN_BLOB = 'UNKNOWN_BLOB'
}

enum __ErrorCodeValues {
  OK = 0,
  BAD_FRAME = 1,
  FRAME_TOO_LARGE = 2,
  UNSUPPORTED_VERSION = 3,
  BAD_SIGNATURE = 4,
  WRONG_SIGNER = 5,
  WRONG_RECIPIENT = 6,
  DECRYPT_FAILED = 7,
  EXPIRED = 8,
  UNKNOWN_EPOCH = 9,
  NOT_MEMBER = 10,
  BLOCKED = 11,
  INVITE_UNKNOWN = 12,
  INVITE_USED = 13,
  RATE_LIMITED = 14,
  STORAGE_FAILURE = 15,
  TIMEOUT = 16,
  INTERNAL = 17,
  BAD_TOKEN = 18,
  BAD_TIMESTAMP = 19,
  WINDOW_EXCEEDED = 20,
  UNKNOWN_BLOB = 21
}

export namespace ErrorCode {
  export const codec = (): Codec<ErrorCode> => {
    return enumeration<ErrorCode>(__ErrorCodeValues)
  }
}

export interface SignedPayload {
  payload: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
}

export namespace SignedPayload {
  let _codec: Codec<SignedPayload>

  export const codec = (): Codec<SignedPayload> => {
    if (_codec == null) {
      _codec = message<SignedPayload>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.payload != null && obj.payload.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.payload)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          payload: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.payload = reader.bytes()
              break
            }
            case 2: {
              obj.signature = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.payload`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SignedPayloadPayloadFieldEvent {
    field: '$.payload'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedPayloadSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedPayload>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedPayload.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedPayload>): SignedPayload {
    return decodeMessage(buf, SignedPayload.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedPayload>): Generator<SignedPayloadPayloadFieldEvent | SignedPayloadSignatureFieldEvent> {
    return streamMessage(buf, SignedPayload.codec(), opts)
  }
}

export interface DeviceKey {
  device: Uint8Array<ArrayBuffer>
  x25519: Uint8Array<ArrayBuffer>
  created: number
}

export namespace DeviceKey {
  let _codec: Codec<DeviceKey>

  export const codec = (): Codec<DeviceKey> => {
    if (_codec == null) {
      _codec = message<DeviceKey>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.device != null && obj.device.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.device)
        }

        if ((obj.x25519 != null && obj.x25519.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.x25519)
        }

        if ((obj.created != null && obj.created !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.created)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          device: uint8ArrayAlloc(0),
          x25519: uint8ArrayAlloc(0),
          created: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.device = reader.bytes()
              break
            }
            case 2: {
              obj.x25519 = reader.bytes()
              break
            }
            case 3: {
              obj.created = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.device`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.x25519`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.created`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface DeviceKeyDeviceFieldEvent {
    field: '$.device'
    value: Uint8Array<ArrayBuffer>
  }

  export interface DeviceKeyX25519FieldEvent {
    field: '$.x25519'
    value: Uint8Array<ArrayBuffer>
  }

  export interface DeviceKeyCreatedFieldEvent {
    field: '$.created'
    value: number
  }

  export function encode (obj: Partial<DeviceKey>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, DeviceKey.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DeviceKey>): DeviceKey {
    return decodeMessage(buf, DeviceKey.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DeviceKey>): Generator<DeviceKeyDeviceFieldEvent | DeviceKeyX25519FieldEvent | DeviceKeyCreatedFieldEvent> {
    return streamMessage(buf, DeviceKey.codec(), opts)
  }
}

export interface Invite {
  version: number
  site: Uint8Array<ArrayBuffer>
  addrs: Uint8Array<ArrayBuffer>[]
  secret: Uint8Array<ArrayBuffer>
  expires: number
  ref: string
  siteName: string
}

export namespace Invite {
  let _codec: Codec<Invite>

  export const codec = (): Codec<Invite> => {
    if (_codec == null) {
      _codec = message<Invite>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.site != null && obj.site.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.site)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(26)
            w.bytes(value)
          }
        }

        if ((obj.secret != null && obj.secret.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.secret)
        }

        if ((obj.expires != null && obj.expires !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.expires)
        }

        if ((obj.ref != null && obj.ref !== '')) {
          w.uint32(50)
          w.string(obj.ref)
        }

        if ((obj.siteName != null && obj.siteName !== '')) {
          w.uint32(58)
          w.string(obj.siteName)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          site: uint8ArrayAlloc(0),
          addrs: [],
          secret: uint8ArrayAlloc(0),
          expires: 0,
          ref: '',
          siteName: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.site = reader.bytes()
              break
            }
            case 3: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            case 4: {
              obj.secret = reader.bytes()
              break
            }
            case 5: {
              obj.expires = reader.uint64Number()
              break
            }
            case 6: {
              obj.ref = reader.string()
              break
            }
            case 7: {
              obj.siteName = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          addrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.site`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.bytes()
              }

              obj.addrs++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.secret`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.expires`,
                value: reader.uint64Number()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.ref`,
                value: reader.string()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.siteName`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface InviteVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface InviteSiteFieldEvent {
    field: '$.site'
    value: Uint8Array<ArrayBuffer>
  }

  export interface InviteAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface InviteSecretFieldEvent {
    field: '$.secret'
    value: Uint8Array<ArrayBuffer>
  }

  export interface InviteExpiresFieldEvent {
    field: '$.expires'
    value: number
  }

  export interface InviteRefFieldEvent {
    field: '$.ref'
    value: string
  }

  export interface InviteSiteNameFieldEvent {
    field: '$.siteName'
    value: string
  }

  export function encode (obj: Partial<Invite>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Invite.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Invite>): Invite {
    return decodeMessage(buf, Invite.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Invite>): Generator<InviteVersionFieldEvent | InviteSiteFieldEvent | InviteAddrsFieldEvent | InviteSecretFieldEvent | InviteExpiresFieldEvent | InviteRefFieldEvent | InviteSiteNameFieldEvent> {
    return streamMessage(buf, Invite.codec(), opts)
  }
}

export interface JoinRequest {
  invite: Uint8Array<ArrayBuffer>
  deviceKey: Uint8Array<ArrayBuffer>
  deviceName: string
}

export namespace JoinRequest {
  let _codec: Codec<JoinRequest>

  export const codec = (): Codec<JoinRequest> => {
    if (_codec == null) {
      _codec = message<JoinRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.invite != null && obj.invite.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.invite)
        }

        if ((obj.deviceKey != null && obj.deviceKey.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.deviceKey)
        }

        if ((obj.deviceName != null && obj.deviceName !== '')) {
          w.uint32(26)
          w.string(obj.deviceName)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          invite: uint8ArrayAlloc(0),
          deviceKey: uint8ArrayAlloc(0),
          deviceName: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.invite = reader.bytes()
              break
            }
            case 2: {
              obj.deviceKey = reader.bytes()
              break
            }
            case 3: {
              obj.deviceName = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.invite`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.deviceKey`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.deviceName`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface JoinRequestInviteFieldEvent {
    field: '$.invite'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JoinRequestDeviceKeyFieldEvent {
    field: '$.deviceKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JoinRequestDeviceNameFieldEvent {
    field: '$.deviceName'
    value: string
  }

  export function encode (obj: Partial<JoinRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JoinRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JoinRequest>): JoinRequest {
    return decodeMessage(buf, JoinRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JoinRequest>): Generator<JoinRequestInviteFieldEvent | JoinRequestDeviceKeyFieldEvent | JoinRequestDeviceNameFieldEvent> {
    return streamMessage(buf, JoinRequest.codec(), opts)
  }
}

export interface JoinResponse {
  code: number
  memberId: string
  siteName: string
  detail: string
}

export namespace JoinResponse {
  let _codec: Codec<JoinResponse>

  export const codec = (): Codec<JoinResponse> => {
    if (_codec == null) {
      _codec = message<JoinResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.code != null && obj.code !== 0)) {
          w.uint32(8)
          w.uint32(obj.code)
        }

        if ((obj.memberId != null && obj.memberId !== '')) {
          w.uint32(18)
          w.string(obj.memberId)
        }

        if ((obj.siteName != null && obj.siteName !== '')) {
          w.uint32(26)
          w.string(obj.siteName)
        }

        if ((obj.detail != null && obj.detail !== '')) {
          w.uint32(34)
          w.string(obj.detail)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: 0,
          memberId: '',
          siteName: '',
          detail: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = reader.uint32()
              break
            }
            case 2: {
              obj.memberId = reader.string()
              break
            }
            case 3: {
              obj.siteName = reader.string()
              break
            }
            case 4: {
              obj.detail = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.code`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.memberId`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.siteName`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.detail`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface JoinResponseCodeFieldEvent {
    field: '$.code'
    value: number
  }

  export interface JoinResponseMemberIdFieldEvent {
    field: '$.memberId'
    value: string
  }

  export interface JoinResponseSiteNameFieldEvent {
    field: '$.siteName'
    value: string
  }

  export interface JoinResponseDetailFieldEvent {
    field: '$.detail'
    value: string
  }

  export function encode (obj: Partial<JoinResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JoinResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JoinResponse>): JoinResponse {
    return decodeMessage(buf, JoinResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JoinResponse>): Generator<JoinResponseCodeFieldEvent | JoinResponseMemberIdFieldEvent | JoinResponseSiteNameFieldEvent | JoinResponseDetailFieldEvent> {
    return streamMessage(buf, JoinResponse.codec(), opts)
  }
}

export interface KeyEpoch {
  site: Uint8Array<ArrayBuffer>
  device: Uint8Array<ArrayBuffer>
  epoch: number
  enc: Uint8Array<ArrayBuffer>
  created: number
  expires: number
}

export namespace KeyEpoch {
  let _codec: Codec<KeyEpoch>

  export const codec = (): Codec<KeyEpoch> => {
    if (_codec == null) {
      _codec = message<KeyEpoch>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.site != null && obj.site.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.site)
        }

        if ((obj.device != null && obj.device.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.device)
        }

        if ((obj.epoch != null && obj.epoch !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.epoch)
        }

        if ((obj.enc != null && obj.enc.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.enc)
        }

        if ((obj.created != null && obj.created !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.created)
        }

        if ((obj.expires != null && obj.expires !== 0)) {
          w.uint32(48)
          w.uint64Number(obj.expires)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          site: uint8ArrayAlloc(0),
          device: uint8ArrayAlloc(0),
          epoch: 0,
          enc: uint8ArrayAlloc(0),
          created: 0,
          expires: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.site = reader.bytes()
              break
            }
            case 2: {
              obj.device = reader.bytes()
              break
            }
            case 3: {
              obj.epoch = reader.uint64Number()
              break
            }
            case 4: {
              obj.enc = reader.bytes()
              break
            }
            case 5: {
              obj.created = reader.uint64Number()
              break
            }
            case 6: {
              obj.expires = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.site`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.device`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.epoch`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.enc`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.created`,
                value: reader.uint64Number()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.expires`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface KeyEpochSiteFieldEvent {
    field: '$.site'
    value: Uint8Array<ArrayBuffer>
  }

  export interface KeyEpochDeviceFieldEvent {
    field: '$.device'
    value: Uint8Array<ArrayBuffer>
  }

  export interface KeyEpochEpochFieldEvent {
    field: '$.epoch'
    value: number
  }

  export interface KeyEpochEncFieldEvent {
    field: '$.enc'
    value: Uint8Array<ArrayBuffer>
  }

  export interface KeyEpochCreatedFieldEvent {
    field: '$.created'
    value: number
  }

  export interface KeyEpochExpiresFieldEvent {
    field: '$.expires'
    value: number
  }

  export function encode (obj: Partial<KeyEpoch>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, KeyEpoch.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<KeyEpoch>): KeyEpoch {
    return decodeMessage(buf, KeyEpoch.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<KeyEpoch>): Generator<KeyEpochSiteFieldEvent | KeyEpochDeviceFieldEvent | KeyEpochEpochFieldEvent | KeyEpochEncFieldEvent | KeyEpochCreatedFieldEvent | KeyEpochExpiresFieldEvent> {
    return streamMessage(buf, KeyEpoch.codec(), opts)
  }
}

export interface EnvelopeHeader {
  version: number
  id: Uint8Array<ArrayBuffer>
  sender: Uint8Array<ArrayBuffer>
  recipient: Uint8Array<ArrayBuffer>
  epoch: number
  seq: number
  created: number
  expires: number
}

export namespace EnvelopeHeader {
  let _codec: Codec<EnvelopeHeader>

  export const codec = (): Codec<EnvelopeHeader> => {
    if (_codec == null) {
      _codec = message<EnvelopeHeader>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.id != null && obj.id.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.id)
        }

        if ((obj.sender != null && obj.sender.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.sender)
        }

        if ((obj.recipient != null && obj.recipient.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.recipient)
        }

        if ((obj.epoch != null && obj.epoch !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.epoch)
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(48)
          w.uint64Number(obj.seq)
        }

        if ((obj.created != null && obj.created !== 0)) {
          w.uint32(56)
          w.uint64Number(obj.created)
        }

        if ((obj.expires != null && obj.expires !== 0)) {
          w.uint32(64)
          w.uint64Number(obj.expires)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          id: uint8ArrayAlloc(0),
          sender: uint8ArrayAlloc(0),
          recipient: uint8ArrayAlloc(0),
          epoch: 0,
          seq: 0,
          created: 0,
          expires: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.id = reader.bytes()
              break
            }
            case 3: {
              obj.sender = reader.bytes()
              break
            }
            case 4: {
              obj.recipient = reader.bytes()
              break
            }
            case 5: {
              obj.epoch = reader.uint64Number()
              break
            }
            case 6: {
              obj.seq = reader.uint64Number()
              break
            }
            case 7: {
              obj.created = reader.uint64Number()
              break
            }
            case 8: {
              obj.expires = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.id`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.sender`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.recipient`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.epoch`,
                value: reader.uint64Number()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64Number()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.created`,
                value: reader.uint64Number()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.expires`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface EnvelopeHeaderVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface EnvelopeHeaderIdFieldEvent {
    field: '$.id'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeHeaderSenderFieldEvent {
    field: '$.sender'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeHeaderRecipientFieldEvent {
    field: '$.recipient'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeHeaderEpochFieldEvent {
    field: '$.epoch'
    value: number
  }

  export interface EnvelopeHeaderSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export interface EnvelopeHeaderCreatedFieldEvent {
    field: '$.created'
    value: number
  }

  export interface EnvelopeHeaderExpiresFieldEvent {
    field: '$.expires'
    value: number
  }

  export function encode (obj: Partial<EnvelopeHeader>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, EnvelopeHeader.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<EnvelopeHeader>): EnvelopeHeader {
    return decodeMessage(buf, EnvelopeHeader.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<EnvelopeHeader>): Generator<EnvelopeHeaderVersionFieldEvent | EnvelopeHeaderIdFieldEvent | EnvelopeHeaderSenderFieldEvent | EnvelopeHeaderRecipientFieldEvent | EnvelopeHeaderEpochFieldEvent | EnvelopeHeaderSeqFieldEvent | EnvelopeHeaderCreatedFieldEvent | EnvelopeHeaderExpiresFieldEvent> {
    return streamMessage(buf, EnvelopeHeader.codec(), opts)
  }
}

export interface Envelope {
  header: Uint8Array<ArrayBuffer>
  ciphertext: Uint8Array<ArrayBuffer>
}

export namespace Envelope {
  let _codec: Codec<Envelope>

  export const codec = (): Codec<Envelope> => {
    if (_codec == null) {
      _codec = message<Envelope>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.header != null && obj.header.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.header)
        }

        if ((obj.ciphertext != null && obj.ciphertext.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.ciphertext)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          header: uint8ArrayAlloc(0),
          ciphertext: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.header = reader.bytes()
              break
            }
            case 2: {
              obj.ciphertext = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.header`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.ciphertext`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface EnvelopeHeaderFieldEvent {
    field: '$.header'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeCiphertextFieldEvent {
    field: '$.ciphertext'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Envelope>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Envelope.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Envelope>): Envelope {
    return decodeMessage(buf, Envelope.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Envelope>): Generator<EnvelopeHeaderFieldEvent | EnvelopeCiphertextFieldEvent> {
    return streamMessage(buf, Envelope.codec(), opts)
  }
}

export interface Content {
  subject: string
  body: string
  contentType: string
  thread: Uint8Array<ArrayBuffer>
  replyTo: Uint8Array<ArrayBuffer>
  group: string
  attachments: Attachment[]
}

export namespace Content {
  let _codec: Codec<Content>

  export const codec = (): Codec<Content> => {
    if (_codec == null) {
      _codec = message<Content>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.subject != null && obj.subject !== '')) {
          w.uint32(10)
          w.string(obj.subject)
        }

        if ((obj.body != null && obj.body !== '')) {
          w.uint32(18)
          w.string(obj.body)
        }

        if ((obj.contentType != null && obj.contentType !== '')) {
          w.uint32(26)
          w.string(obj.contentType)
        }

        if ((obj.thread != null && obj.thread.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.thread)
        }

        if ((obj.replyTo != null && obj.replyTo.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.replyTo)
        }

        if ((obj.group != null && obj.group !== '')) {
          w.uint32(50)
          w.string(obj.group)
        }

        if (obj.attachments != null && obj.attachments.length > 0) {
          for (const value of obj.attachments) {
            w.uint32(58)
            Attachment.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          subject: '',
          body: '',
          contentType: '',
          thread: uint8ArrayAlloc(0),
          replyTo: uint8ArrayAlloc(0),
          group: '',
          attachments: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.subject = reader.string()
              break
            }
            case 2: {
              obj.body = reader.string()
              break
            }
            case 3: {
              obj.contentType = reader.string()
              break
            }
            case 4: {
              obj.thread = reader.bytes()
              break
            }
            case 5: {
              obj.replyTo = reader.bytes()
              break
            }
            case 6: {
              obj.group = reader.string()
              break
            }
            case 7: {
              if (opts.limits?.attachments != null && obj.attachments.length === opts.limits.attachments) {
                throw new MaxLengthError('Decode error - repeated field "attachments" had too many elements')
              }

              obj.attachments.push(Attachment.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.attachments$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          attachments: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.subject`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.body`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.contentType`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.thread`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.replyTo`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.group`,
                value: reader.string()
              }
              break
            }
            case 7: {
              if (opts.limits?.attachments != null && obj.attachments === opts.limits.attachments) {
                throw new MaxLengthError('Streaming decode error - repeated field "attachments" had too many elements')
              }

              for (const evt of Attachment.codec().stream(reader, reader.uint32(), `${prefix}.attachments[]`, {
                limits: opts.limits?.attachments$
              })) {
                yield {
                  ...evt,
                  index: obj.attachments
                }
              }

              obj.attachments++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ContentSubjectFieldEvent {
    field: '$.subject'
    value: string
  }

  export interface ContentBodyFieldEvent {
    field: '$.body'
    value: string
  }

  export interface ContentContentTypeFieldEvent {
    field: '$.contentType'
    value: string
  }

  export interface ContentThreadFieldEvent {
    field: '$.thread'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ContentReplyToFieldEvent {
    field: '$.replyTo'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ContentGroupFieldEvent {
    field: '$.group'
    value: string
  }

  export interface ContentAttachmentsBlobFieldEvent {
    field: '$.attachments[].blob'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ContentAttachmentsNameFieldEvent {
    field: '$.attachments[].name'
    value: string
    index: number
  }

  export interface ContentAttachmentsMediaTypeFieldEvent {
    field: '$.attachments[].mediaType'
    value: string
    index: number
  }

  export interface ContentAttachmentsSizeFieldEvent {
    field: '$.attachments[].size'
    value: number
    index: number
  }

  export interface ContentAttachmentsSha256FieldEvent {
    field: '$.attachments[].sha256'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ContentAttachmentsKeyFieldEvent {
    field: '$.attachments[].key'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export function encode (obj: Partial<Content>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Content.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Content>): Content {
    return decodeMessage(buf, Content.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Content>): Generator<ContentSubjectFieldEvent | ContentBodyFieldEvent | ContentContentTypeFieldEvent | ContentThreadFieldEvent | ContentReplyToFieldEvent | ContentGroupFieldEvent | ContentAttachmentsBlobFieldEvent | ContentAttachmentsNameFieldEvent | ContentAttachmentsMediaTypeFieldEvent | ContentAttachmentsSizeFieldEvent | ContentAttachmentsSha256FieldEvent | ContentAttachmentsKeyFieldEvent> {
    return streamMessage(buf, Content.codec(), opts)
  }
}

export interface Attachment {
  blob: Uint8Array<ArrayBuffer>
  name: string
  mediaType: string
  size: number
  sha256: Uint8Array<ArrayBuffer>
  key: Uint8Array<ArrayBuffer>
}

export namespace Attachment {
  let _codec: Codec<Attachment>

  export const codec = (): Codec<Attachment> => {
    if (_codec == null) {
      _codec = message<Attachment>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.blob != null && obj.blob.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.blob)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(18)
          w.string(obj.name)
        }

        if ((obj.mediaType != null && obj.mediaType !== '')) {
          w.uint32(26)
          w.string(obj.mediaType)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.size)
        }

        if ((obj.sha256 != null && obj.sha256.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.sha256)
        }

        if ((obj.key != null && obj.key.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.key)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          blob: uint8ArrayAlloc(0),
          name: '',
          mediaType: '',
          size: 0,
          sha256: uint8ArrayAlloc(0),
          key: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.blob = reader.bytes()
              break
            }
            case 2: {
              obj.name = reader.string()
              break
            }
            case 3: {
              obj.mediaType = reader.string()
              break
            }
            case 4: {
              obj.size = reader.uint64Number()
              break
            }
            case 5: {
              obj.sha256 = reader.bytes()
              break
            }
            case 6: {
              obj.key = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.blob`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.mediaType`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64Number()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.sha256`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.key`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface AttachmentBlobFieldEvent {
    field: '$.blob'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AttachmentNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface AttachmentMediaTypeFieldEvent {
    field: '$.mediaType'
    value: string
  }

  export interface AttachmentSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface AttachmentSha256FieldEvent {
    field: '$.sha256'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AttachmentKeyFieldEvent {
    field: '$.key'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Attachment>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Attachment.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Attachment>): Attachment {
    return decodeMessage(buf, Attachment.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Attachment>): Generator<AttachmentBlobFieldEvent | AttachmentNameFieldEvent | AttachmentMediaTypeFieldEvent | AttachmentSizeFieldEvent | AttachmentSha256FieldEvent | AttachmentKeyFieldEvent> {
    return streamMessage(buf, Attachment.codec(), opts)
  }
}

export interface AckBody {
  sender: Uint8Array<ArrayBuffer>
  receiver: Uint8Array<ArrayBuffer>
  ids: Uint8Array<ArrayBuffer>[]
  time: number
}

export namespace AckBody {
  let _codec: Codec<AckBody>

  export const codec = (): Codec<AckBody> => {
    if (_codec == null) {
      _codec = message<AckBody>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.sender != null && obj.sender.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.sender)
        }

        if ((obj.receiver != null && obj.receiver.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.receiver)
        }

        if (obj.ids != null && obj.ids.length > 0) {
          for (const value of obj.ids) {
            w.uint32(26)
            w.bytes(value)
          }
        }

        if ((obj.time != null && obj.time !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.time)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          sender: uint8ArrayAlloc(0),
          receiver: uint8ArrayAlloc(0),
          ids: [],
          time: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.sender = reader.bytes()
              break
            }
            case 2: {
              obj.receiver = reader.bytes()
              break
            }
            case 3: {
              if (opts.limits?.ids != null && obj.ids.length === opts.limits.ids) {
                throw new MaxLengthError('Decode error - repeated field "ids" had too many elements')
              }

              obj.ids.push(reader.bytes())
              break
            }
            case 4: {
              obj.time = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          ids: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.sender`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.receiver`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              if (opts.limits?.ids != null && obj.ids === opts.limits.ids) {
                throw new MaxLengthError('Streaming decode error - repeated field "ids" had too many elements')
              }

              yield {
                field: `${prefix}.ids[]`,
                index: obj.ids,
                value: reader.bytes()
              }

              obj.ids++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.time`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface AckBodySenderFieldEvent {
    field: '$.sender'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AckBodyReceiverFieldEvent {
    field: '$.receiver'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AckBodyIdsFieldEvent {
    field: '$.ids[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface AckBodyTimeFieldEvent {
    field: '$.time'
    value: number
  }

  export function encode (obj: Partial<AckBody>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AckBody.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AckBody>): AckBody {
    return decodeMessage(buf, AckBody.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AckBody>): Generator<AckBodySenderFieldEvent | AckBodyReceiverFieldEvent | AckBodyIdsFieldEvent | AckBodyTimeFieldEvent> {
    return streamMessage(buf, AckBody.codec(), opts)
  }
}

export interface Reject {
  id: Uint8Array<ArrayBuffer>
  code: number
  detail: string
}

export namespace Reject {
  let _codec: Codec<Reject>

  export const codec = (): Codec<Reject> => {
    if (_codec == null) {
      _codec = message<Reject>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.id)
        }

        if ((obj.code != null && obj.code !== 0)) {
          w.uint32(16)
          w.uint32(obj.code)
        }

        if ((obj.detail != null && obj.detail !== '')) {
          w.uint32(26)
          w.string(obj.detail)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: uint8ArrayAlloc(0),
          code: 0,
          detail: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.bytes()
              break
            }
            case 2: {
              obj.code = reader.uint32()
              break
            }
            case 3: {
              obj.detail = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.id`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.code`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.detail`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface RejectIdFieldEvent {
    field: '$.id'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RejectCodeFieldEvent {
    field: '$.code'
    value: number
  }

  export interface RejectDetailFieldEvent {
    field: '$.detail'
    value: string
  }

  export function encode (obj: Partial<Reject>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Reject.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Reject>): Reject {
    return decodeMessage(buf, Reject.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Reject>): Generator<RejectIdFieldEvent | RejectCodeFieldEvent | RejectDetailFieldEvent> {
    return streamMessage(buf, Reject.codec(), opts)
  }
}

export interface StreamError {
  code: number
  detail: string
}

export namespace StreamError {
  let _codec: Codec<StreamError>

  export const codec = (): Codec<StreamError> => {
    if (_codec == null) {
      _codec = message<StreamError>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.code != null && obj.code !== 0)) {
          w.uint32(8)
          w.uint32(obj.code)
        }

        if ((obj.detail != null && obj.detail !== '')) {
          w.uint32(18)
          w.string(obj.detail)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: 0,
          detail: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = reader.uint32()
              break
            }
            case 2: {
              obj.detail = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.code`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.detail`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface StreamErrorCodeFieldEvent {
    field: '$.code'
    value: number
  }

  export interface StreamErrorDetailFieldEvent {
    field: '$.detail'
    value: string
  }

  export function encode (obj: Partial<StreamError>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, StreamError.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StreamError>): StreamError {
    return decodeMessage(buf, StreamError.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StreamError>): Generator<StreamErrorCodeFieldEvent | StreamErrorDetailFieldEvent> {
    return streamMessage(buf, StreamError.codec(), opts)
  }
}

export interface Push {
  epoch?: SignedPayload
  envelope?: Envelope
}

export namespace Push {
  let _codec: Codec<Push>

  export const codec = (): Codec<Push> => {
    if (_codec == null) {
      _codec = message<Push>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        obj = { ...obj }

        if (obj.envelope != null) {
          obj.epoch = undefined
        }

        if (obj.epoch != null) {
          obj.envelope = undefined
        }

        if (obj.epoch != null) {
          w.uint32(10)
          SignedPayload.codec().encode(obj.epoch, w)
        }

        if (obj.envelope != null) {
          w.uint32(18)
          Envelope.codec().encode(obj.envelope, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.epoch = SignedPayload.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.epoch
              })
              break
            }
            case 2: {
              obj.envelope = Envelope.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.envelope
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        if (obj.envelope != null) {
          delete obj.epoch
        }

        if (obj.epoch != null) {
          delete obj.envelope
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * SignedPayload.codec().stream(reader, reader.uint32(), `${prefix}.epoch`, {
                limits: opts.limits?.epoch
              })

              break
            }
            case 2: {
              yield * Envelope.codec().stream(reader, reader.uint32(), `${prefix}.envelope`, {
                limits: opts.limits?.envelope
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PushEpochPayloadFieldEvent {
    field: '$.epoch.payload'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PushEpochSignatureFieldEvent {
    field: '$.epoch.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PushEnvelopeHeaderFieldEvent {
    field: '$.envelope.header'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PushEnvelopeCiphertextFieldEvent {
    field: '$.envelope.ciphertext'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Push>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Push.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Push>): Push {
    return decodeMessage(buf, Push.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Push>): Generator<PushEpochPayloadFieldEvent | PushEpochSignatureFieldEvent | PushEnvelopeHeaderFieldEvent | PushEnvelopeCiphertextFieldEvent> {
    return streamMessage(buf, Push.codec(), opts)
  }
}

export interface Receipt {
  ack?: SignedPayload
  reject?: Reject
  error?: StreamError
}

export namespace Receipt {
  let _codec: Codec<Receipt>

  export const codec = (): Codec<Receipt> => {
    if (_codec == null) {
      _codec = message<Receipt>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        obj = { ...obj }

        if (obj.error != null) {
          obj.reject = undefined
          obj.ack = undefined
        }

        if (obj.reject != null) {
          obj.error = undefined
          obj.ack = undefined
        }

        if (obj.ack != null) {
          obj.error = undefined
          obj.reject = undefined
        }

        if (obj.ack != null) {
          w.uint32(10)
          SignedPayload.codec().encode(obj.ack, w)
        }

        if (obj.reject != null) {
          w.uint32(18)
          Reject.codec().encode(obj.reject, w)
        }

        if (obj.error != null) {
          w.uint32(26)
          StreamError.codec().encode(obj.error, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.ack = SignedPayload.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.ack
              })
              break
            }
            case 2: {
              obj.reject = Reject.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.reject
              })
              break
            }
            case 3: {
              obj.error = StreamError.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        if (obj.error != null) {
          delete obj.reject
          delete obj.ack
        }

        if (obj.reject != null) {
          delete obj.error
          delete obj.ack
        }

        if (obj.ack != null) {
          delete obj.error
          delete obj.reject
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * SignedPayload.codec().stream(reader, reader.uint32(), `${prefix}.ack`, {
                limits: opts.limits?.ack
              })

              break
            }
            case 2: {
              yield * Reject.codec().stream(reader, reader.uint32(), `${prefix}.reject`, {
                limits: opts.limits?.reject
              })

              break
            }
            case 3: {
              yield * StreamError.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ReceiptAckPayloadFieldEvent {
    field: '$.ack.payload'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptAckSignatureFieldEvent {
    field: '$.ack.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptRejectIdFieldEvent {
    field: '$.reject.id'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptRejectCodeFieldEvent {
    field: '$.reject.code'
    value: number
  }

  export interface ReceiptRejectDetailFieldEvent {
    field: '$.reject.detail'
    value: string
  }

  export interface ReceiptErrorCodeFieldEvent {
    field: '$.error.code'
    value: number
  }

  export interface ReceiptErrorDetailFieldEvent {
    field: '$.error.detail'
    value: string
  }

  export function encode (obj: Partial<Receipt>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Receipt.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipt>): Receipt {
    return decodeMessage(buf, Receipt.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipt>): Generator<ReceiptAckPayloadFieldEvent | ReceiptAckSignatureFieldEvent | ReceiptRejectIdFieldEvent | ReceiptRejectCodeFieldEvent | ReceiptRejectDetailFieldEvent | ReceiptErrorCodeFieldEvent | ReceiptErrorDetailFieldEvent> {
    return streamMessage(buf, Receipt.codec(), opts)
  }
}

export interface BlobRequest {
  blob: Uint8Array<ArrayBuffer>
  first: number
  fetched: boolean
  proof: Uint8Array<ArrayBuffer>
}

export namespace BlobRequest {
  let _codec: Codec<BlobRequest>

  export const codec = (): Codec<BlobRequest> => {
    if (_codec == null) {
      _codec = message<BlobRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.blob != null && obj.blob.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.blob)
        }

        if ((obj.first != null && obj.first !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.first)
        }

        if ((obj.fetched != null && obj.fetched !== false)) {
          w.uint32(24)
          w.bool(obj.fetched)
        }

        if ((obj.proof != null && obj.proof.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.proof)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          blob: uint8ArrayAlloc(0),
          first: 0,
          fetched: false,
          proof: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.blob = reader.bytes()
              break
            }
            case 2: {
              obj.first = reader.uint64Number()
              break
            }
            case 3: {
              obj.fetched = reader.bool()
              break
            }
            case 4: {
              obj.proof = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.blob`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.first`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.fetched`,
                value: reader.bool()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.proof`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface BlobRequestBlobFieldEvent {
    field: '$.blob'
    value: Uint8Array<ArrayBuffer>
  }

  export interface BlobRequestFirstFieldEvent {
    field: '$.first'
    value: number
  }

  export interface BlobRequestFetchedFieldEvent {
    field: '$.fetched'
    value: boolean
  }

  export interface BlobRequestProofFieldEvent {
    field: '$.proof'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<BlobRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, BlobRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BlobRequest>): BlobRequest {
    return decodeMessage(buf, BlobRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BlobRequest>): Generator<BlobRequestBlobFieldEvent | BlobRequestFirstFieldEvent | BlobRequestFetchedFieldEvent | BlobRequestProofFieldEvent> {
    return streamMessage(buf, BlobRequest.codec(), opts)
  }
}

export interface BlobReply {
  chunk?: BlobChunk
  error?: StreamError
}

export namespace BlobReply {
  let _codec: Codec<BlobReply>

  export const codec = (): Codec<BlobReply> => {
    if (_codec == null) {
      _codec = message<BlobReply>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        obj = { ...obj }

        if (obj.error != null) {
          obj.chunk = undefined
        }

        if (obj.chunk != null) {
          obj.error = undefined
        }

        if (obj.chunk != null) {
          w.uint32(10)
          BlobChunk.codec().encode(obj.chunk, w)
        }

        if (obj.error != null) {
          w.uint32(18)
          StreamError.codec().encode(obj.error, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.chunk = BlobChunk.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.chunk
              })
              break
            }
            case 2: {
              obj.error = StreamError.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        if (obj.error != null) {
          delete obj.chunk
        }

        if (obj.chunk != null) {
          delete obj.error
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * BlobChunk.codec().stream(reader, reader.uint32(), `${prefix}.chunk`, {
                limits: opts.limits?.chunk
              })

              break
            }
            case 2: {
              yield * StreamError.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface BlobReplyChunkIndexFieldEvent {
    field: '$.chunk.index'
    value: number
  }

  export interface BlobReplyChunkSealedFieldEvent {
    field: '$.chunk.sealed'
    value: Uint8Array<ArrayBuffer>
  }

  export interface BlobReplyErrorCodeFieldEvent {
    field: '$.error.code'
    value: number
  }

  export interface BlobReplyErrorDetailFieldEvent {
    field: '$.error.detail'
    value: string
  }

  export function encode (obj: Partial<BlobReply>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, BlobReply.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BlobReply>): BlobReply {
    return decodeMessage(buf, BlobReply.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BlobReply>): Generator<BlobReplyChunkIndexFieldEvent | BlobReplyChunkSealedFieldEvent | BlobReplyErrorCodeFieldEvent | BlobReplyErrorDetailFieldEvent> {
    return streamMessage(buf, BlobReply.codec(), opts)
  }
}

export interface BlobChunk {
  index: number
  sealed: Uint8Array<ArrayBuffer>
}

export namespace BlobChunk {
  let _codec: Codec<BlobChunk>

  export const codec = (): Codec<BlobChunk> => {
    if (_codec == null) {
      _codec = message<BlobChunk>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.index)
        }

        if ((obj.sealed != null && obj.sealed.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.sealed)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0,
          sealed: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.index = reader.uint64Number()
              break
            }
            case 2: {
              obj.sealed = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.sealed`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface BlobChunkIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface BlobChunkSealedFieldEvent {
    field: '$.sealed'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<BlobChunk>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, BlobChunk.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BlobChunk>): BlobChunk {
    return decodeMessage(buf, BlobChunk.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BlobChunk>): Generator<BlobChunkIndexFieldEvent | BlobChunkSealedFieldEvent> {
    return streamMessage(buf, BlobChunk.codec(), opts)
  }
}

export interface Leave {
  site: Uint8Array<ArrayBuffer>
  device: Uint8Array<ArrayBuffer>
  time: number
}

export namespace Leave {
  let _codec: Codec<Leave>

  export const codec = (): Codec<Leave> => {
    if (_codec == null) {
      _codec = message<Leave>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.site != null && obj.site.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.site)
        }

        if ((obj.device != null && obj.device.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.device)
        }

        if ((obj.time != null && obj.time !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.time)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          site: uint8ArrayAlloc(0),
          device: uint8ArrayAlloc(0),
          time: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.site = reader.bytes()
              break
            }
            case 2: {
              obj.device = reader.bytes()
              break
            }
            case 3: {
              obj.time = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.site`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.device`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.time`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface LeaveSiteFieldEvent {
    field: '$.site'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LeaveDeviceFieldEvent {
    field: '$.device'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LeaveTimeFieldEvent {
    field: '$.time'
    value: number
  }

  export function encode (obj: Partial<Leave>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Leave.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Leave>): Leave {
    return decodeMessage(buf, Leave.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Leave>): Generator<LeaveSiteFieldEvent | LeaveDeviceFieldEvent | LeaveTimeFieldEvent> {
    return streamMessage(buf, Leave.codec(), opts)
  }
}

export interface Result {
  code: number
  detail: string
}

export namespace Result {
  let _codec: Codec<Result>

  export const codec = (): Codec<Result> => {
    if (_codec == null) {
      _codec = message<Result>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.code != null && obj.code !== 0)) {
          w.uint32(8)
          w.uint32(obj.code)
        }

        if ((obj.detail != null && obj.detail !== '')) {
          w.uint32(18)
          w.string(obj.detail)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: 0,
          detail: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = reader.uint32()
              break
            }
            case 2: {
              obj.detail = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.code`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.detail`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ResultCodeFieldEvent {
    field: '$.code'
    value: number
  }

  export interface ResultDetailFieldEvent {
    field: '$.detail'
    value: string
  }

  export function encode (obj: Partial<Result>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Result.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Result>): Result {
    return decodeMessage(buf, Result.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Result>): Generator<ResultCodeFieldEvent | ResultDetailFieldEvent> {
    return streamMessage(buf, Result.codec(), opts)
  }
}

export interface AddressRecord {
  peer: Uint8Array<ArrayBuffer>
  addrs: Uint8Array<ArrayBuffer>[]
  seq: number
  expires: number
}

export namespace AddressRecord {
  let _codec: Codec<AddressRecord>

  export const codec = (): Codec<AddressRecord> => {
    if (_codec == null) {
      _codec = message<AddressRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peer != null && obj.peer.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.peer)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.seq)
        }

        if ((obj.expires != null && obj.expires !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.expires)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peer: uint8ArrayAlloc(0),
          addrs: [],
          seq: 0,
          expires: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peer = reader.bytes()
              break
            }
            case 2: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            case 3: {
              obj.seq = reader.uint64Number()
              break
            }
            case 4: {
              obj.expires = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          addrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.peer`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.bytes()
              }

              obj.addrs++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.expires`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface AddressRecordPeerFieldEvent {
    field: '$.peer'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AddressRecordAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface AddressRecordSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export interface AddressRecordExpiresFieldEvent {
    field: '$.expires'
    value: number
  }

  export function encode (obj: Partial<AddressRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AddressRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AddressRecord>): AddressRecord {
    return decodeMessage(buf, AddressRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AddressRecord>): Generator<AddressRecordPeerFieldEvent | AddressRecordAddrsFieldEvent | AddressRecordSeqFieldEvent | AddressRecordExpiresFieldEvent> {
    return streamMessage(buf, AddressRecord.codec(), opts)
  }
}
