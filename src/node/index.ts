/**
 * The TMTP node library: the one face of `src/node/` that the HTTP APIs, the command and a
 * site backend written in Node.js import (`import { createSiteNode } from 'tmtp'`).
 *
 * - `createSiteNode` runs a site: invites and members, sending with per-device delivery
 *   state and signed receipts, replies, and the DHT server that lets devices find it.
 * - `createMemberNode` runs a member device: joins sites, receives into its inbox,
 *   replies, leaves and blocks.
 * - `createBootstrapNode` runs a DHT server that only helps TMTP nodes find each other.
 *
 * Everything a caller needs to describe requests, answers, events and errors is exported
 * here, with the contract's value lists (urgencies, delivery states, error codes, limits),
 * so that schemas and help texts are built from them instead of copying them
 * (`contract.ts` holds those alone, for callers that must not load the node).
 */
import '../polyfill.js'

export { createSiteNode, type SiteNode, type SiteNodeOptions, type SiteNodeEvents, type SiteStats, type SessionEvent, type BackendJournal } from './site-node.js'
export { createMemberNode, restoreMemberDevice, type MemberNode, type MemberNodeOptions, type MemberNodeEvents, type InboxMessage, type InboxAttachment, type AttachmentFile, type JoinResult, type MessageSelector } from './member-node.js'
export { createBootstrapNode, type BootstrapNode, type BootstrapNodeOptions } from './bootstrap-node.js'
export { DATABASE_DIR, ENCRYPTION_FILE, IDENTITY_FILE, loadEncryptionKey, loadIdentity } from './identity.js'
export type { TmtpLibp2p } from './libp2p.js'
export { peerIdToString } from '../crypto/ed25519.js'
export { BackupError, openBackup, parseBackup, sealBackup, type BackupErrorCode, type DeviceIdentity, type IdentityBackup } from '../crypto/backup.js'
export * from './contract.js'
