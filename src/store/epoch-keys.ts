import { fromString as uint8ArrayFromString } from 'uint8arrays'
import { directionKey, type DirectionKey, type EpochKeys } from '../crypto/index.js'
import { toHex } from '../util/index.js'

/** The exported keys of a key epoch as both roles store them (hex). */
export interface StoredEpochKeys {
  siteToDevice: { key: string, nonce: string }
  deviceToSite: { key: string, nonce: string }
}

/** Epoch keys as stored in LevelDB (hex), and back. */
export function epochKeysToRecord (keys: EpochKeys): StoredEpochKeys {
  const hex = (d: DirectionKey): { key: string, nonce: string } => ({
    key: toHex(d.keyBytes),
    nonce: toHex(d.baseNonce)
  })
  return { siteToDevice: hex(keys.siteToDevice), deviceToSite: hex(keys.deviceToSite) }
}

export function epochKeysFromRecord (record: StoredEpochKeys): EpochKeys {
  const direction = (d: { key: string, nonce: string }): DirectionKey =>
    directionKey(uint8ArrayFromString(d.key, 'base16'), uint8ArrayFromString(d.nonce, 'base16'))
  return { siteToDevice: direction(record.siteToDevice), deviceToSite: direction(record.deviceToSite) }
}
