/**
 * The node's contract without the node: the value lists, limits, defaults, error codes and
 * types that describe requests, answers, events and errors. A light face (it loads neither
 * libp2p nor LevelDB), so that the command can build its help and check its configuration
 * without starting anything; `index.ts` re-exports all of it beside the factories. For that
 * reason it names the leaf files it needs rather than the other layers' faces.
 */
export { DEFAULTS } from './defaults.js'
export { LIMIT_RANGES, resolveLimits, type NodeLimits } from './limits.js'
export { MAX_IDEMPOTENCY_KEY_LENGTH, MAX_SEND_GROUPS, MAX_SEND_RECIPIENTS, MAX_TOPIC_LENGTH, REPORT_MODES, type ReportMode, type SendRequest, type SendResult, type SiteEvent } from '../delivery/send-request.js'
export { DEFAULT_URGENCY, URGENCIES, type Urgency } from '../delivery/urgency.js'
export { COPY_STATES, DELIVERY_STATES, SETTLED_STATES, type CopyState, type DeliveryState, type SettledState } from '../store/states.js'
export type { CopyCounts } from '../store/broadcast-store.js'
export { isMemberId, MEMBER_ID_PATTERN } from '../store/member-id.js'
export { GROUP_ID_PATTERN, isGroupId } from '../store/group-id.js'
export { DEFAULT_PAGE_SIZE, MAX_GROUP_MEMBERS_PER_REQUEST, MAX_PAGE_SIZE } from './group-rules.js'
export { MAX_CURSOR_LENGTH } from '../store/cursor.js'
export type { CopyStatus, MessageCounts, MessageStatus, Reply, ReplyView, StateCounts } from '../store/site-store.js'
export type { GroupView } from '../store/group-store.js'
export type { BroadcastEvent, DeliveryEvent, JournalEntry, JournalEvent, ReplyEvent } from '../store/event-journal.js'
export type { JoinedSite, PostStatus } from '../store/member-store.js'
export type { LookupEvent } from '../discovery/discovery.js'
export type { InviteRequest, IssuedInvite, MemberView } from './site-membership.js'
export type { GroupChange, GroupMember, GroupMembersPage, GroupPage, PageRequest } from './site-groups.js'
export type { StorageFailure } from './storage-health.js'
export { NODE_ERROR_CODES, NodeError, type NodeErrorCode } from '../util/node-error.js'
export { ErrorCode, TmtpError } from '../protocol/errors.js'
export type { BlobView as AttachmentView } from '../store/blob-store.js'
export type { UploadRequest } from './site-blobs.js'
export type { AttachmentEvent, AttachmentStatus } from './member-attachments.js'
export { ATTACHMENT_STATES, type AttachmentState } from '../store/attachment-states.js'
export { DEFAULT_MEDIA_TYPE, MAX_ATTACHMENT_NAME_BYTES, MAX_ATTACHMENTS, MAX_MEDIA_TYPE_BYTES } from '../protocol/constants.js'
export { DEFAULT_CONTENT_TYPE, MAX_BODY_BYTES, MAX_CONTENT_TYPE_BYTES, MAX_GROUP_NAME_BYTES, MAX_NAME_BYTES, MAX_REF_BYTES, MAX_SUBJECT_BYTES } from '../protocol/constants.js'
