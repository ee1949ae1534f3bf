import { createSecretKey } from 'node:crypto'
import { fromString as uint8ArrayFromString, toString as uint8ArrayToString } from 'uint8arrays'
import type { DirectionKey, EpochKeys } from '../crypto/epoch.js'

import type { StoredEpochKeys } from '../store/epoch-keys.js'

/** Epoch keys as stored in LevelDB (hex), and back. */
export function epochKeysToRecord (keys: EpochKeys): StoredEpochKeys {
  const hex = (d: DirectionKey): { key: string, nonce: string } => ({
    key: uint8ArrayToString(d.keyBytes, 'base16'),
    nonce: uint8ArrayToString(d.baseNonce, 'base16')
  })
  return { siteToDevice: hex(keys.siteToDevice), deviceToSite: hex(keys.deviceToSite) }
}

export function epochKeysFromRecord (record: StoredEpochKeys): EpochKeys {
  const direction = (d: { key: string, nonce: string }): DirectionKey => {
    const keyBytes = uint8ArrayFromString(d.key, 'base16')
    return { key: createSecretKey(keyBytes), keyBytes, baseNonce: uint8ArrayFromString(d.nonce, 'base16') }
  }
  return { siteToDevice: direction(record.siteToDevice), deviceToSite: direction(record.deviceToSite) }
}
