import { fromString as uint8ArrayFromString, toString as uint8ArrayToString } from 'uint8arrays'
import { provider } from '#crypto-provider'
import { Ed25519Signer, equalBytes, publicKeyFromPeerId } from './ed25519.js'
import { decodeSignedPayload, signMessage, verifySignedPayload } from './signing.js'
import { decodeMessage, ErrorCode, Invite, INVITE_SECRET_BYTES, INVITE_TOKEN_PREFIX, isTmtpError, MAX_INVITE_ADDRS, MAX_NAME_BYTES, MAX_REF_BYTES, requireLength, requireMaxBytes, SIGNING_CONTEXT, TmtpError, WIRE_VERSION } from '../protocol/index.js'

export interface InviteFields {
  addrs: Uint8Array[]
  secret: Uint8Array
  expires: number
  ref?: string
  siteName?: string
}

export interface ParsedInvite {
  invite: Invite
  /** The SignedPayload bytes, sent unchanged in JoinRequest.invite. */
  signed: Uint8Array
}

/** Signs an invite and returns its copy-pasteable text form (spec: "Invites"). */
export function createInviteToken (site: Ed25519Signer, fields: InviteFields): string {
  const invite: Invite = {
    version: WIRE_VERSION,
    site: site.peerId as Uint8Array<ArrayBuffer>,
    addrs: fields.addrs as Array<Uint8Array<ArrayBuffer>>,
    secret: fields.secret as Uint8Array<ArrayBuffer>,
    expires: fields.expires,
    ref: fields.ref ?? '',
    siteName: fields.siteName ?? ''
  }
  checkInviteFields(invite)
  return INVITE_TOKEN_PREFIX + uint8ArrayToString(signMessage(site, SIGNING_CONTEXT.invite, Invite, invite), 'base64url')
}

/**
 * Parses and verifies an invite token as a member does before joining: BAD_TOKEN for
 * text that is not a token or whose bytes are not a well-formed invite, UNSUPPORTED_VERSION
 * for another version, BAD_SIGNATURE if the site did not sign it, EXPIRED if it has expired
 * at `now`.
 */
export function parseInviteToken (token: string, now: number): ParsedInvite {
  // spec 9.3: ASCII white space only; String.trim() would also take U+00A0, U+FEFF and the like
  const text = token.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '')
  const prefix = /^tmtp(\d+):/.exec(text)
  if (prefix == null) throw new TmtpError(ErrorCode.BAD_TOKEN, 'not a TMTP invite token')
  if (prefix[0] !== INVITE_TOKEN_PREFIX) throw new TmtpError(ErrorCode.UNSUPPORTED_VERSION, `invite token version ${prefix[1]} is not supported`)
  const body = text.slice(prefix[0].length)
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw new TmtpError(ErrorCode.BAD_TOKEN, 'invite token is not base64url')
  let signed: Uint8Array
  try {
    signed = uint8ArrayFromString(body, 'base64url')
  } catch (err) {
    throw new TmtpError(ErrorCode.BAD_TOKEN, 'invite token is not base64url', { cause: err })
  }
  try {
    return { invite: openInvite(signed, undefined, now), signed }
  } catch (err) {
    // spec/tmtp.proto: a token whose bytes are not a well-formed invite is BAD_TOKEN
    if (isTmtpError(err, ErrorCode.BAD_FRAME)) throw new TmtpError(ErrorCode.BAD_TOKEN, `invite token is malformed: ${err.message}`, { cause: err })
    throw err
  }
}

/**
 * Verifies signed invite bytes. A site passes its own PeerId as `site`: an invite of
 * another site is WRONG_SIGNER.
 */
export function openInvite (signed: Uint8Array, site: Uint8Array | undefined, now: number): Invite {
  const payload = decodeSignedPayload(signed, 'invite')
  const invite = decodeMessage(Invite, payload.payload, 'invite', { limits: { addrs: MAX_INVITE_ADDRS } })
  if (invite.version !== WIRE_VERSION) throw new TmtpError(ErrorCode.UNSUPPORTED_VERSION, `invite version ${invite.version} is not supported`)
  publicKeyFromPeerId(invite.site)
  if (site !== undefined && !equalBytes(invite.site, site)) {
    throw new TmtpError(ErrorCode.WRONG_SIGNER, 'invite was issued by another site')
  }
  verifySignedPayload(payload, SIGNING_CONTEXT.invite, invite.site, 'invite')
  checkInviteFields(invite)
  if (now >= invite.expires) throw new TmtpError(ErrorCode.EXPIRED, 'invite has expired')
  return invite
}

function checkInviteFields (invite: Invite): void {
  requireLength(invite.secret, INVITE_SECRET_BYTES, 'invite secret')
  if (invite.addrs.length > MAX_INVITE_ADDRS) throw new TmtpError(ErrorCode.BAD_FRAME, `an invite carries at most ${MAX_INVITE_ADDRS} addresses`)
  requireMaxBytes(invite.ref, MAX_REF_BYTES, 'invite ref')
  requireMaxBytes(invite.siteName, MAX_NAME_BYTES, 'site name')
}

/** What a site stores instead of the secret (spec: "Invites"): SHA-256(secret). */
export function inviteSecretHash (secret: Uint8Array): Uint8Array {
  return provider.sha256(secret)
}
