import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { equalBytes } from '../crypto/index.js'
import { ErrorCode, TmtpError } from '../protocol/index.js'

/**
 * A multiaddr received in binary form (invite hints, address records). BAD_FRAME unless the
 * bytes are exactly the encoding of a valid address: @multiformats/multiaddr 13 reads a
 * subarray past its end (into whatever follows it) and keeps the bytes it was given as the
 * address's encoding, so it gets a copy and its text form is encoded again and compared.
 */
export function decodeMultiaddr (bytes: Uint8Array, what: string): Multiaddr {
  let ma: Multiaddr
  let again: Uint8Array
  try {
    ma = multiaddr(Uint8Array.from(bytes))
    again = multiaddr(ma.toString()).bytes
  } catch (err) {
    throw new TmtpError(ErrorCode.BAD_FRAME, `${what} is not a multiaddr`, { cause: err })
  }
  if (!equalBytes(again, bytes)) throw new TmtpError(ErrorCode.BAD_FRAME, `${what} is not a canonical multiaddr`)
  return ma
}
