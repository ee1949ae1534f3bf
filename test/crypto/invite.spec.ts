import assert from 'node:assert/strict'
import fc from 'fast-check'
import { toString as uint8ArrayToString, fromString as uint8ArrayFromString } from 'uint8arrays'
import { createInviteToken, inviteSecretHash, openInvite, parseInviteToken, type InviteFields } from '../../src/crypto/invite.js'
import { signMessage } from '../../src/crypto/signing.js'
import { INVITE_TOKEN_PREFIX, MAX_INVITE_ADDRS, MAX_NAME_BYTES, MAX_REF_BYTES, SIGNING_CONTEXT } from '../../src/protocol/constants.js'
import { ErrorCode } from '../../src/protocol/errors.js'
import { Invite, SignedPayload } from '../../src/protocol/pb/tmtp.js'
import { bytesOf, flipBit, hex, onlyTmtpErrors, throwsTmtp } from '../support/assertions.js'
import { otherSite, site } from '../support/keys.js'
import type { Ed25519Signer } from '../../src/crypto/ed25519.js'

type B = Uint8Array<ArrayBuffer>

const NOW = 1_750_000_000_000
const DAY = 86_400_000
// /ip4/127.0.0.1/tcp/4001 in binary multiaddr form
const ADDR = bytesOf(0x04, 127, 0, 0, 1, 0x06, 0x0f, 0xa1)

function fields (overrides: Partial<InviteFields> = {}): InviteFields {
  return { addrs: [ADDR], secret: new Uint8Array(32).fill(0x5e), expires: NOW + DAY, ref: 'user-42', siteName: 'Café Example', ...overrides }
}

/** An invite signed as given, bypassing createInviteToken's checks. */
function signInvite (signer: Ed25519Signer, invite: Partial<Invite>, context: typeof SIGNING_CONTEXT[keyof typeof SIGNING_CONTEXT] = SIGNING_CONTEXT.invite): Uint8Array {
  const value: Invite = { version: 1, site: site.peerId as B, addrs: [ADDR as B], secret: new Uint8Array(32).fill(1), expires: NOW + DAY, ref: '', siteName: '', ...invite }
  return signMessage(signer, context, Invite, value)
}

function tokenOf (signed: Uint8Array, prefix = INVITE_TOKEN_PREFIX): string {
  return prefix + uint8ArrayToString(signed, 'base64url')
}

describe('crypto/invite', () => {
  describe('createInviteToken and parseInviteToken', () => {
    it('round-trips every field through the text form', () => {
      const token = createInviteToken(site, fields())
      assert.ok(token.startsWith('tmtp1:'))
      assert.match(token, /^tmtp1:[A-Za-z0-9_-]+$/, 'unpadded base64url')
      const { invite, signed } = parseInviteToken(token, NOW)
      assert.deepStrictEqual(invite, {
        version: 1, site: site.peerId, addrs: [ADDR], secret: new Uint8Array(32).fill(0x5e), expires: NOW + DAY, ref: 'user-42', siteName: 'Café Example'
      })
      assert.deepEqual(signed, uint8ArrayFromString(token.slice(6), 'base64url'))
      assert.deepStrictEqual(openInvite(signed, site.peerId, NOW), invite)
    })

    it('defaults ref and site name to empty and allows no addresses', () => {
      const { invite } = parseInviteToken(createInviteToken(site, { addrs: [], secret: new Uint8Array(32), expires: NOW + 1 }), NOW)
      assert.equal(invite.ref, '')
      assert.equal(invite.siteName, '')
      assert.deepEqual(invite.addrs, [])
    })

    it('ignores whitespace around the token, not inside it', () => {
      const token = createInviteToken(site, fields())
      assert.equal(parseInviteToken(`  ${token}\n`, NOW).invite.ref, 'user-42')
      assert.equal(parseInviteToken(`\t${token}\r\n`, NOW).invite.ref, 'user-42')
      throwsTmtp(() => parseInviteToken(`${token.slice(0, 20)} ${token.slice(20)}`, NOW), ErrorCode.BAD_TOKEN)
      throwsTmtp(() => parseInviteToken(`${token.slice(0, 20)}\n${token.slice(20)}`, NOW), ErrorCode.BAD_TOKEN)
    })

    it('expires an invite at its expiry time (EXPIRED)', () => {
      const token = createInviteToken(site, fields({ expires: NOW }))
      parseInviteToken(token, NOW - 1)
      throwsTmtp(() => parseInviteToken(token, NOW), ErrorCode.EXPIRED)
      throwsTmtp(() => parseInviteToken(token, NOW + DAY), ErrorCode.EXPIRED)
      const signed = parseInviteToken(token, 0).signed
      throwsTmtp(() => openInvite(signed, site.peerId, NOW), ErrorCode.EXPIRED)
      throwsTmtp(() => parseInviteToken(createInviteToken(site, fields({ expires: 0 })), 0), ErrorCode.EXPIRED)
    })

    it('refuses text that is not a token (BAD_TOKEN)', () => {
      const body = createInviteToken(site, fields()).slice(6)
      const bad = [
        '', '   ', 'hello', 'tmtp1', 'tmtp:', 'tmtpx:abc', 'TMTP1:' + body, 'Tmtp1:' + body, 'tmtp1 :' + body, ' tmtp 1:' + body,
        'https://example.com/invite?t=tmtp1:' + body, 'tmtp1:', 'tmtp1:=', 'tmtp1:' + body + '=', 'tmtp1:' + body + '==',
        'tmtp1:abc+def/', 'tmtp1:' + body.replace(/-/g, '+'), 'tmtp1:' + body + '.', 'tmtp1:' + body + ':x', 'tmtp1:é',
        // base64url of the wrong length or with non-zero padding bits
        'tmtp1:A', 'tmtp1:AB', 'tmtp1:AAAAB',
        // base64url of bytes that are not a SignedPayload
        'tmtp1:_w', 'tmtp1:' + uint8ArrayToString(bytesOf(0x0a, 0x05, 1), 'base64url'), 'tmtp1:' + uint8ArrayToString(bytesOf(0x0f), 'base64url')
      ]
      for (const text of bad) throwsTmtp(() => parseInviteToken(text, NOW), ErrorCode.BAD_TOKEN)
    })

    it('refuses a token of another version by its prefix (UNSUPPORTED_VERSION)', () => {
      const body = createInviteToken(site, fields()).slice(6)
      for (const prefix of ['tmtp0:', 'tmtp2:', 'tmtp10:', 'tmtp01:', 'tmtp99999999999999999999:']) {
        throwsTmtp(() => parseInviteToken(prefix + body, NOW), ErrorCode.UNSUPPORTED_VERSION)
      }
      throwsTmtp(() => parseInviteToken('tmtp2:anything at all', NOW), ErrorCode.UNSUPPORTED_VERSION)
    })

    it('refuses an invite whose version field is not 1 (UNSUPPORTED_VERSION)', () => {
      for (const version of [0, 2, 2 ** 32 - 1]) {
        const signed = signInvite(site, { version })
        throwsTmtp(() => parseInviteToken(tokenOf(signed), NOW), ErrorCode.UNSUPPORTED_VERSION)
        throwsTmtp(() => openInvite(signed, site.peerId, NOW), ErrorCode.UNSUPPORTED_VERSION)
      }
    })

    it('refuses an invite the named site did not sign (BAD_SIGNATURE)', () => {
      const forged = signInvite(otherSite, { site: site.peerId as B })
      throwsTmtp(() => parseInviteToken(tokenOf(forged), NOW), ErrorCode.BAD_SIGNATURE)
      throwsTmtp(() => openInvite(forged, site.peerId, NOW), ErrorCode.BAD_SIGNATURE)
      // a signature by the right key under another context does not count either
      for (const context of [SIGNING_CONTEXT.ack, SIGNING_CONTEXT.leave, SIGNING_CONTEXT.deviceKey, SIGNING_CONTEXT.keyEpoch]) {
        throwsTmtp(() => openInvite(signInvite(site, {}, context), site.peerId, NOW), ErrorCode.BAD_SIGNATURE)
      }
      const signed = SignedPayload.decode(signInvite(site, {}))
      const short = SignedPayload.encode({ payload: signed.payload, signature: signed.signature.subarray(0, 63) })
      throwsTmtp(() => openInvite(short, site.peerId, NOW), ErrorCode.BAD_SIGNATURE)
      throwsTmtp(() => parseInviteToken(tokenOf(short), NOW), ErrorCode.BAD_SIGNATURE)
    })
  })

  describe('openInvite', () => {
    it('lets a site refuse an invite issued by another site (WRONG_SIGNER)', () => {
      const signed = parseInviteToken(createInviteToken(otherSite, fields()), NOW).signed
      throwsTmtp(() => openInvite(signed, site.peerId, NOW), ErrorCode.WRONG_SIGNER)
      assert.deepEqual(openInvite(signed, otherSite.peerId, NOW).site, otherSite.peerId)
      assert.deepEqual(openInvite(signed, undefined, NOW).site, otherSite.peerId)
    })

    it('refuses an invite whose site is not an Ed25519 PeerId (BAD_FRAME)', () => {
      for (const bad of [new Uint8Array(0), site.publicKey, bytesOf(0x12, 0x20, ...new Uint8Array(32))]) {
        throwsTmtp(() => openInvite(signInvite(site, { site: bad as B }), undefined, NOW), ErrorCode.BAD_FRAME)
      }
    })
  })

  describe('limits', () => {
    it(`carries at most ${MAX_INVITE_ADDRS} addresses`, () => {
      const addrs = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => bytesOf(0x04, 10, 0, 0, i, 0x06, 0x0f, 0xa1))
      assert.equal(parseInviteToken(createInviteToken(site, fields({ addrs: addrs(MAX_INVITE_ADDRS) })), NOW).invite.addrs.length, MAX_INVITE_ADDRS)
      throwsTmtp(() => createInviteToken(site, fields({ addrs: addrs(MAX_INVITE_ADDRS + 1) })), ErrorCode.BAD_FRAME)
      const tooMany = signInvite(site, { addrs: addrs(MAX_INVITE_ADDRS + 1) as B[] })
      throwsTmtp(() => openInvite(tooMany, site.peerId, NOW), ErrorCode.BAD_FRAME)
      throwsTmtp(() => parseInviteToken(tokenOf(tooMany), NOW), ErrorCode.BAD_TOKEN)
    })

    it('needs a secret of exactly 32 bytes', () => {
      for (const n of [0, 16, 31, 33]) {
        throwsTmtp(() => createInviteToken(site, fields({ secret: new Uint8Array(n) })), ErrorCode.BAD_FRAME)
        const signed = signInvite(site, { secret: new Uint8Array(n) as B })
        throwsTmtp(() => openInvite(signed, site.peerId, NOW), ErrorCode.BAD_FRAME)
        throwsTmtp(() => parseInviteToken(tokenOf(signed), NOW), ErrorCode.BAD_TOKEN)
      }
    })

    it(`limits ref to ${MAX_REF_BYTES} and the site name to ${MAX_NAME_BYTES} UTF-8 bytes`, () => {
      parseInviteToken(createInviteToken(site, fields({ ref: 'r'.repeat(MAX_REF_BYTES), siteName: 'é'.repeat(MAX_NAME_BYTES / 2) })), NOW)
      throwsTmtp(() => createInviteToken(site, fields({ ref: 'r'.repeat(MAX_REF_BYTES + 1) })), ErrorCode.BAD_FRAME)
      throwsTmtp(() => createInviteToken(site, fields({ siteName: 'é'.repeat(MAX_NAME_BYTES / 2) + 'x' })), ErrorCode.BAD_FRAME)
      throwsTmtp(() => createInviteToken(site, fields({ siteName: '😀'.repeat(MAX_NAME_BYTES / 4 + 1) })), ErrorCode.BAD_FRAME)
      throwsTmtp(() => openInvite(signInvite(site, { ref: 'r'.repeat(MAX_REF_BYTES + 1) }), site.peerId, NOW), ErrorCode.BAD_FRAME)
      throwsTmtp(() => openInvite(signInvite(site, { siteName: 'n'.repeat(MAX_NAME_BYTES + 1) }), site.peerId, NOW), ErrorCode.BAD_FRAME)
    })
  })

  describe('inviteSecretHash', () => {
    it('is SHA-256 of the secret', () => {
      assert.deepEqual(inviteSecretHash(new Uint8Array(0)), hex('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'))
      assert.deepEqual(inviteSecretHash(new Uint8Array(32)), hex('66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925'))
      assert.equal(inviteSecretHash(new Uint8Array(32).fill(1)).byteLength, 32)
    })
  })

  describe('tampering', () => {
    it('detects every single-bit change of a signed invite, at every bit', () => {
      const signed = parseInviteToken(createInviteToken(site, fields()), NOW).signed
      for (let bit = 0; bit < signed.byteLength * 8; bit++) {
        const tampered = flipBit(signed, bit)
        throwsTmtp(() => openInvite(tampered, undefined, NOW))
        throwsTmtp(() => openInvite(tampered, site.peerId, NOW))
        throwsTmtp(() => parseInviteToken(tokenOf(tampered), NOW))
      }
    })

    it('never accepts a changed token text as another invite (property)', () => {
      const token = createInviteToken(site, fields())
      const original = parseInviteToken(token, NOW).signed
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=: \n'
      const edit = fc.record({ kind: fc.constantFrom('replace', 'insert', 'delete'), at: fc.nat(), char: fc.constantFrom(...alphabet) })
      fc.assert(fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), edits => {
        let text = token
        for (const e of edits) {
          const at = e.at % (text.length + 1)
          if (e.kind === 'replace') text = text.slice(0, at) + e.char + text.slice(at + 1)
          else if (e.kind === 'insert') text = text.slice(0, at) + e.char + text.slice(at)
          else text = text.slice(0, at) + text.slice(at + 1)
        }
        const err = onlyTmtpErrors(() => parseInviteToken(text, NOW))
        if (err === undefined) assert.deepEqual(parseInviteToken(text, NOW).signed, original, `accepted ${JSON.stringify(text)}`)
      }), { numRuns: 400 })
    })
  })
})
