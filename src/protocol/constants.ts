/**
 * Protocol constants of TMTP v1. Each value is fixed by spec/tmtp.md; the section that
 * fixes it is named beside it. Node-level, configurable limits live in src/node/defaults.ts.
 */

/** spec: "Stream protocols". */
export const PROTOCOL_JOIN = '/tmtp/join/1.0.0'
export const PROTOCOL_DELIVER = '/tmtp/deliver/1.0.0'
export const PROTOCOL_POST = '/tmtp/post/1.0.0'
export const PROTOCOL_LEAVE = '/tmtp/leave/1.0.0'
/** Since r4: a device fetches an attachment's blob from its site. */
export const PROTOCOL_BLOB = '/tmtp/blob/1.0.0'

/** spec: "The DHT": TMTP nodes run their own Kademlia network under this prefix. */
export const DHT_PROTOCOL_PREFIX = '/tmtp'

/** spec: "Framing": the largest frame any TMTP v1 stream carries (length prefix excluded). */
export const MAX_FRAME_SIZE = 128 * 1024

/** spec: "Framing": join, leave and their answers are small. */
export const MAX_CONTROL_FRAME_SIZE = 16 * 1024

/** spec: "Framing": a decoder reads at most this many prefix bytes (128 KiB itself needs 3). */
export const MAX_VARINT_BYTES = 5

/** spec: "Envelopes": version of the envelope header and of invites. */
export const WIRE_VERSION = 1

/** spec: "Invites": text form prefix. */
export const INVITE_TOKEN_PREFIX = 'tmtp1:'

/** spec: "Limits". */
export const MESSAGE_ID_BYTES = 16
export const INVITE_SECRET_BYTES = 32
export const MAX_INVITE_ADDRS = 8
export const MAX_NAME_BYTES = 128
export const MAX_REF_BYTES = 256
export const MAX_SUBJECT_BYTES = 1024
export const MAX_BODY_BYTES = 64 * 1024
export const MAX_CONTENT_TYPE_BYTES = 128
/** Content.group: the display name of the site's group a message was sent to (since r3). */
export const MAX_GROUP_NAME_BYTES = 128
export const MAX_MEMBER_ID_BYTES = 128
export const MAX_ACK_IDS = 1024

/** spec 11.2 and 15.6, attachments (since r4). */
export const MAX_ATTACHMENTS = 16
export const MAX_ATTACHMENT_NAME_BYTES = 255
export const MAX_MEDIA_TYPE_BYTES = 128
export const BLOB_ID_BYTES = 16
export const CONTENT_KEY_BYTES = 32
export const SHA256_BYTES = 32
/** spec 15.6: a blob is sealed in chunks of this many bytes of the file (the last one may be shorter). */
export const BLOB_CHUNK_BYTES = 64 * 1024
/** spec 11.2: the media type of an attachment that names none. */
export const DEFAULT_MEDIA_TYPE = 'application/octet-stream'

/** spec: "Time": a timestamp may lie this far in the receiver's future. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000

/** spec: "Signatures": context strings, each signed as context || 0x00 || payload. */
export const SIGNING_CONTEXT = {
  deviceKey: 'tmtp/1/device-key',
  invite: 'tmtp/1/invite',
  keyEpoch: 'tmtp/1/key-epoch',
  ack: 'tmtp/1/ack',
  leave: 'tmtp/1/leave',
  addressRecord: 'tmtp/1/address-record'
} as const

/** spec 15.6: the start of every blob chunk's AAD (domain separation, as a signing context). */
export const BLOB_CHUNK_CONTEXT = 'tmtp/1/blob-chunk'
/** spec 15.6: what a device's proof that it holds a blob's key is computed over, before its PeerId. */
export const BLOB_PROOF_CONTEXT = 'tmtp/1/blob-proof'

export type SigningContext = typeof SIGNING_CONTEXT[keyof typeof SIGNING_CONTEXT]

/** spec: "Key epochs": HPKE info prefix and exporter labels. */
export const HPKE_INFO_PREFIX = 'tmtp/1/epoch'
export const EXPORT_LABEL = {
  siteToDeviceKey: 'tmtp/1 site-to-device key',
  siteToDeviceNonce: 'tmtp/1 site-to-device nonce',
  deviceToSiteKey: 'tmtp/1 device-to-site key',
  deviceToSiteNonce: 'tmtp/1 device-to-site nonce'
} as const

/** spec: "Content": default content type of a message body. */
export const DEFAULT_CONTENT_TYPE = 'text/markdown'

/** spec 15.2, "/tmtp/deliver/1.0.0": the most envelopes a receiver accepts unacknowledged on one stream. */
export const MAX_IN_FLIGHT = 1024

/**
 * spec 15.2, deferred acks: a receiver that acknowledged on a stream less than this long ago
 * may hold the ids it stores meanwhile for one ack, sent at most this long after the last one.
 */
export const ACK_DELAY_MS = 250
/** spec 15.2, deferred acks: a receiver holding this many stored, unacknowledged ids acknowledges them at once. */
export const ACK_DEFER_MAX_IDS = 32

/** spec: "Timeouts": a join or leave exchange must complete within this time. */
export const CONTROL_STREAM_TIMEOUT_MS = 10_000

/** spec: "Timeouts": a sender with envelopes in flight aborts the stream after this long without a receipt. */
export const RECEIPT_TIMEOUT_MS = 30_000

/** spec: "Timeouts": either side may close a deliver or post stream idle for this long. */
export const STREAM_IDLE_TIMEOUT_MS = 60_000

/** spec: "Key epochs": the most envelopes sealed under one epoch direction; a sender rotates before. */
export const MAX_EPOCH_ENVELOPES = 1_000_000
