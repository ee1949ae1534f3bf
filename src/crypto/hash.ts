import { provider } from '#crypto-provider'

/** SHA-256 of data (record keys, proofs' names), on the platform's provider. */
export function sha256 (data: Uint8Array): Uint8Array {
  return provider.sha256(data)
}
