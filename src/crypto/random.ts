import { provider } from '#crypto-provider'

/** Bytes from the platform's CSPRNG (message ids, secrets), in a buffer of their own. */
export function randomBytes (length: number): Uint8Array<ArrayBuffer> {
  return provider.randomBytes(length)
}
