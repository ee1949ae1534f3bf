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
 * so that schemas and help texts are built from them instead of copying them.
 */
import '../polyfill.js'

export { createSiteNode, type SiteNode, type SiteNodeOptions, type SiteNodeEvents, type SiteStats, type SessionEvent } from './site-node.js'
export { createMemberNode, type MemberNode, type MemberNodeOptions, type MemberNodeEvents, type InboxMessage, type JoinResult, type MessageSelector } from './member-node.js'
export { createBootstrapNode, type BootstrapNode, type BootstrapNodeOptions } from './bootstrap-node.js'
export type { InviteRequest, IssuedInvite, MemberView } from './site-membership.js'
export type { StorageFailure } from './storage-health.js'
export { DEFAULTS } from './defaults.js'
export { LIMIT_RANGES, resolveLimits, type NodeLimits } from './limits.js'
export { DATABASE_DIR, ENCRYPTION_FILE, IDENTITY_FILE, loadEncryptionKey, loadIdentity } from './identity.js'
export type { TmtpLibp2p } from './libp2p.js'

export { MAX_IDEMPOTENCY_KEY_LENGTH, MAX_SEND_RECIPIENTS, MAX_TOPIC_LENGTH, type SendRequest, type SendResult, type SiteEvent } from '../delivery/send-request.js'
export { DEFAULT_URGENCY, URGENCIES, type Urgency } from '../delivery/urgency.js'
export { DELIVERY_STATES, SETTLED_STATES, type DeliveryState, type SettledState } from '../store/states.js'
export type { MessageStatus, Reply, ReplyView, StateCounts } from '../store/site-store.js'
export type { JoinedSite, PostStatus } from '../store/member-store.js'
export type { LookupEvent } from '../discovery/discovery.js'
export { NODE_ERROR_CODES, NodeError, type NodeErrorCode } from '../util/node-error.js'
export { ErrorCode, TmtpError } from '../protocol/errors.js'
export { DEFAULT_CONTENT_TYPE, MAX_BODY_BYTES, MAX_CONTENT_TYPE_BYTES, MAX_NAME_BYTES, MAX_REF_BYTES, MAX_SUBJECT_BYTES } from '../protocol/constants.js'
export { peerIdToString } from '../crypto/ed25519.js'
