import { SIGNATURE_BYTES, Ed25519Signer, publicKeyFromPeerId, verifyEd25519 } from './ed25519.js'
import { decodeCanonical, ErrorCode, SignedPayload, TmtpError, type MessageCodec, type SigningContext } from '../protocol/index.js'

const encoder = new TextEncoder()

/** The signed bytes: context || 0x00 || payload (spec: "Signatures"). */
export function signingInput (context: SigningContext, payload: Uint8Array): Uint8Array {
  const ctx = encoder.encode(context)
  const out = new Uint8Array(ctx.byteLength + 1 + payload.byteLength)
  out.set(ctx)
  out.set(payload, ctx.byteLength + 1)
  return out
}

export function signPayload (signer: Ed25519Signer, context: SigningContext, payload: Uint8Array): SignedPayload {
  return { payload, signature: signer.sign(signingInput(context, payload)) } as SignedPayload
}

/** Encodes a message, signs it and returns the SignedPayload bytes. */
export function signMessage<T> (signer: Ed25519Signer, context: SigningContext, codec: MessageCodec<T>, value: T): Uint8Array {
  return SignedPayload.encode(signPayload(signer, context, codec.encode(value)))
}

export function decodeSignedPayload (bytes: Uint8Array, what: string): SignedPayload {
  const signed = decodeCanonical(SignedPayload, bytes, what)
  if (signed.signature.byteLength !== SIGNATURE_BYTES) {
    throw new TmtpError(ErrorCode.BAD_SIGNATURE, `${what} signature must be ${SIGNATURE_BYTES} bytes`)
  }
  return signed
}

/** Throws BAD_SIGNATURE unless signed.signature is signerPeerId's signature of the payload. */
export function verifySignedPayload (signed: SignedPayload, context: SigningContext, signerPeerId: Uint8Array, what: string): void {
  const publicKey = publicKeyFromPeerId(signerPeerId)
  if (!verifyEd25519(publicKey, signingInput(context, signed.payload), signed.signature)) {
    throw new TmtpError(ErrorCode.BAD_SIGNATURE, `${what} signature does not verify`)
  }
}
