/**
 * The node library in a browser tab: the member node alone (a tab cannot listen, so it is
 * never a site or a DHT server), with the node's contract. The package exports it as
 * 'tmtp/browser'; bundle it for the browser (the `browser` condition), which gives it the
 * browser's platform (IndexedDB, WebSockets) and crypto provider (WebCrypto, @noble).
 */
import '../polyfill.js'

export { createMemberNode, restoreMemberDevice, type MemberNode, type MemberNodeOptions, type MemberNodeEvents, type InboxMessage, type InboxAttachment, type AttachmentFile, type JoinResult, type MessageSelector } from './member-node.js'
export { peerIdToString } from '../crypto/index.js'
export { BackupError, openBackup, parseBackup, sealBackup, type BackupErrorCode, type DeviceIdentity, type IdentityBackup } from '../crypto/backup.js'
export * from './contract.js'
