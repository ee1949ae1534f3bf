import type { DeviceIdentity, Ed25519Signer, X25519KeyPair } from '../crypto/index.js'
import type { Database, DatabaseOptions } from '../store/index.js'
import type { Libp2pOptions } from 'libp2p'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import type { AttachmentFiles } from './attachment-files.js'

/**
 * What a node needs of the platform it runs on: where its keys, its LevelDB and a member's
 * fetched attachments live, and which transports it has. Node.js (platform-node.ts): key
 * files, LevelDB and attachments in the data folder, TCP and WebSockets. A browser tab
 * (platform-browser.ts): keys, LevelDB and attachments in IndexedDB under the data folder's
 * name, WebSockets only (a tab cannot listen: the site delivers over the connection the tab
 * opened).
 *
 * As for the crypto provider, the implementation is chosen when modules are resolved:
 * node/ imports '#node-platform', which package.json's `imports` map to the browser module for
 * browser bundlers and to the Node one on Node; tsconfig.json's `paths` give tsc and tsx the
 * Node one from the sources.
 */
export interface NodePlatform {
  /** The node's Ed25519 identity, created on first use. */
  loadIdentity: (dataDir: string) => Promise<Ed25519Signer>
  /** A member device's X25519 key, created on first use. */
  loadEncryptionKey: (dataDir: string) => Promise<X25519KeyPair>
  /**
   * Makes a member device's keys those of `keys` (restored from a backup) before its node
   * starts; resolves with the undoing of it, for a restore that fails further on. Node.js:
   * writes the key files owner-only into a data folder that has none (never over one:
   * INVALID_ARGUMENT). A browser tab: replaces the keys in IndexedDB (the tab made some when it
   * first ran; the undoing puts them back).
   */
  restoreIdentity: (dataDir: string, keys: Pick<DeviceIdentity, 'ed25519' | 'x25519'>) => Promise<() => Promise<void>>
  /** The node's LevelDB, created on first use. */
  openDatabase: (dataDir: string, options: DatabaseOptions) => Promise<Database>
  transports: () => NonNullable<Libp2pOptions['transports']>
  /** Noise's crypto when the platform has a faster one than Noise's default (Node.js with sodium-native). */
  noiseCrypto?: ICryptoInterface
  /** Where a member device keeps the attachments it fetched: files in the data folder on Node.js, a store of their own in IndexedDB in a browser tab; absent: the device fetches none (ATTACHMENTS_NOT_SUPPORTED). */
  attachmentFiles?: (dataDir: string) => Promise<AttachmentFiles>
}
