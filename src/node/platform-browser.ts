import { webSockets } from '@libp2p/websockets'
import { Level } from 'level'
import { Ed25519Signer, randomBytes, x25519FromPrivateKey } from '../crypto/index.js'
import { Database } from '../store/index.js'
import type { NodePlatform } from './platform.js'

/**
 * A 32-byte secret key kept in the tab's IndexedDB (`level` is browser-level there), created
 * with fresh random bytes on first use. The browser's origin isolation is what guards it; the
 * member can export it as an encrypted backup.
 */
async function loadOrCreateKey (dataDir: string, name: string): Promise<Uint8Array> {
  const keys = new Level<string, Uint8Array>(`${dataDir}/keys`, { valueEncoding: 'view' })
  await keys.open()
  try {
    const held = await keys.get(name)
    if (held !== undefined && held.byteLength === 32) return held
    const key = randomBytes(32)
    await keys.put(name, key)
    return key
  } finally {
    await keys.close()
  }
}

/** A browser tab: keys and LevelDB in IndexedDB; WebSockets only. */
export const platform: NodePlatform = {
  loadIdentity: async dataDir => new Ed25519Signer(await loadOrCreateKey(dataDir, 'identity')),
  loadEncryptionKey: async dataDir => x25519FromPrivateKey(await loadOrCreateKey(dataDir, 'encryption')),
  openDatabase: async (dataDir, options) => await Database.open(`${dataDir}/db`, options),
  transports: () => [webSockets()]
}
