import { webSockets } from '@libp2p/websockets'
import { Level } from 'level'
import { Ed25519Signer, randomBytes, x25519FromPrivateKey } from '../crypto/index.js'
import { Database } from '../store/index.js'
import { attachmentFiles } from './attachment-files-browser.js'
import type { NodePlatform } from './platform.js'

/** The names of the two keys in the tab's key store. */
const IDENTITY = 'identity'
const ENCRYPTION = 'encryption'

/** The tab's key store in IndexedDB (`level` is browser-level there), open for `action` alone. */
async function withKeys<T> (dataDir: string, action: (keys: Level<string, Uint8Array>) => Promise<T>): Promise<T> {
  const keys = new Level<string, Uint8Array>(`${dataDir}/keys`, { valueEncoding: 'view' })
  await keys.open()
  try {
    return await action(keys)
  } finally {
    await keys.close()
  }
}

/**
 * A 32-byte secret key kept in the tab's IndexedDB, created with fresh random bytes on first
 * use. The browser's origin isolation is what guards it; the member can export it as an
 * encrypted backup.
 */
async function loadOrCreateKey (dataDir: string, name: string): Promise<Uint8Array> {
  return await withKeys(dataDir, async keys => {
    const held = await keys.get(name)
    if (held !== undefined && held.byteLength === 32) return held
    const key = randomBytes(32)
    await keys.put(name, key)
    return key
  })
}

/** A browser tab: keys, LevelDB and fetched attachments in IndexedDB; WebSockets only. */
export const platform: NodePlatform = {
  loadIdentity: async dataDir => new Ed25519Signer(await loadOrCreateKey(dataDir, IDENTITY)),
  loadEncryptionKey: async dataDir => x25519FromPrivateKey(await loadOrCreateKey(dataDir, ENCRYPTION)),
  restoreIdentity: async (dataDir, { ed25519, x25519 }) => {
    const names = [IDENTITY, ENCRYPTION]
    // both keys in one IndexedDB transaction: the tab never holds one device's key beside another's
    const former = await withKeys(dataDir, async keys => {
      const held = await keys.getMany(names)
      await keys.batch([{ type: 'put', key: IDENTITY, value: ed25519 }, { type: 'put', key: ENCRYPTION, value: x25519 }])
      return held
    })
    return async () => {
      await withKeys(dataDir, async keys => {
        await keys.batch(names.map((key, i) => {
          const value = former[i]
          return value === undefined ? { type: 'del' as const, key } : { type: 'put' as const, key, value }
        }))
      })
    }
  },
  openDatabase: async (dataDir, options) => await Database.open(`${dataDir}/db`, options),
  transports: () => [webSockets()],
  attachmentFiles
}
