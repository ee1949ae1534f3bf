/** The exported keys of a key epoch as both roles store them (hex): see src/delivery/epochs.ts. */
export interface StoredEpochKeys {
  siteToDevice: { key: string, nonce: string }
  deviceToSite: { key: string, nonce: string }
}
