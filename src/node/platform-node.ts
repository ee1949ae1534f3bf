import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { Database } from '../store/index.js'
import { DATABASE_DIR, loadEncryptionKey, loadIdentity, restoreKeys } from './identity.js'
import { noiseCrypto } from './noise-crypto.js'
import { attachmentFiles } from './attachment-files-node.js'
import type { NodePlatform } from './platform.js'

/** Node.js: owner-only key files, LevelDB and fetched attachments in the data folder; TCP, and WebSockets for browser members; Noise's X25519 on libsodium where it is installed. */
export const platform: NodePlatform = {
  loadIdentity,
  loadEncryptionKey,
  restoreIdentity: restoreKeys,
  openDatabase: async (dataDir, options) => {
    const path = join(dataDir, DATABASE_DIR)
    await mkdir(path, { recursive: true, mode: 0o700 }).catch(() => {})
    return await Database.open(path, options)
  },
  transports: () => [tcp(), webSockets()],
  noiseCrypto,
  attachmentFiles
}
