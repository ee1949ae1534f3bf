import { epochKeysFromRecord, type MemberStore } from '../store/index.js'
import type { EpochKeys } from '../crypto/index.js'

export interface CachedEpoch {
  keys: EpochKeys
  expires: number
  /** The SignedPayload bytes of the KeyEpoch, hex: a second epoch with the same number is compared with it. */
  signed: string
}

/** The epoch keys of each joined site, loaded from the store once. */
export class EpochCache {
  private readonly store: MemberStore
  private readonly sites = new Map<string, Map<number, CachedEpoch>>()

  constructor (store: MemberStore) {
    this.store = store
  }

  async load (site: string): Promise<Map<number, CachedEpoch>> {
    let epochs = this.sites.get(site)
    if (epochs === undefined) {
      epochs = new Map()
      for (const record of await this.store.epochs(site)) epochs.set(record.epoch, { keys: epochKeysFromRecord(record), expires: record.expires, signed: record.signed })
      this.sites.set(site, epochs)
    }
    return epochs
  }

  add (site: string, epoch: number, value: CachedEpoch): void {
    this.sites.get(site)?.set(epoch, value)
  }

  forget (site: string): void {
    this.sites.delete(site)
  }
}
