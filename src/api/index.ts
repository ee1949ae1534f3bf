/**
 * The HTTP APIs of TMTP nodes: the site API for a site's web backend and the member API
 * for the `tmtp` command on a member device. Both are fastify instances that the caller
 * makes listen (on loopback): `await api.listen({ host: '127.0.0.1', port })`. Both answer
 * only to loopback host names and those given as `allowedHosts` (the Host header).
 *
 * The request and response types below are derived from the route schemas, which are also
 * what validates requests, serialises answers and makes the OpenAPI documents: a client
 * (the `tmtp` command) describes the answers it reads with them.
 */
export { createSiteApi, SITE_API_INFO, type SiteApiOptions } from './site-api.js'
export { createMemberApi, MEMBER_API_INFO, type MemberApiOptions } from './member-api.js'
export { DEFAULT_BODY_LIMIT, type ApiLimits, type ApiOptions } from './server.js'
export { MIN_TOKEN_LENGTH } from './auth.js'
export * from './contract.js'
export * from './backup.js'
export { API_ERROR_CODES, ApiError, toHttpError, type ApiErrorCode, type HttpError } from './errors.js'
export { API_VERSION, openApiDocument, type OpenApiDocument } from './openapi.js'
export type { RateLimitOptions } from './rate-limit.js'
export { SiteMetrics } from './metrics.js'
export {
  WebhookDispatcher,
  signWebhook,
  verifyWebhookSignature,
  MIN_WEBHOOK_SECRET_LENGTH,
  WEBHOOK_DEFAULTS,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  EVENT_ID_HEADER,
  type WebhookConfig,
  type WebhookEvent,
  type WebhookStats
} from './webhooks.js'

// both APIs
export type { HealthResponse } from './routes/health.js'
// the site API
export type { SiteStatusResponse } from './routes/site/status.js'
export type { MessageStatusResponse, SendBody, SendResponse } from './routes/site/messages.js'
export type { AttachmentResponse } from './routes/site/attachments.js'
export type { InviteBody, InviteResponse } from './routes/site/invites.js'
export type { MemberResponse, MembersResponse } from './routes/site/members.js'
export type { CreateGroupBody, GroupChangeResponse, GroupMembersBody, GroupMembersResponse, GroupPageResponse, GroupResponse, MemberGroupsResponse, PageQuery, RenameGroupBody } from './routes/site/groups.js'
export type { DeleteRepliesResponse, RepliesResponse, ReplyResponse } from './routes/site/replies.js'
export type { WebhookResponse } from './routes/site/webhook.js'
// the member API
export type { MemberStatusResponse } from './routes/member/status.js'
export type { JoinBody, JoinResponse, LeaveResponse, SiteResponse, SitesResponse } from './routes/member/sites.js'
export type { BlockBody, BlocksResponse } from './routes/member/blocks.js'
export type { InboxMessageQuery, InboxMessageResponse, InboxResponse, ReplyBody } from './routes/member/inbox.js'
export type { PostResponse } from './routes/member/posts.js'
export type { ReadStateBody } from './routes/member/read-state.js'
export type { BackupBody, BackupResponse } from './routes/member/identity.js'
export { MAX_EVENT_STREAMS } from './routes/member/events.js'
export { PAGE_CSP, WEB_ROOT } from './routes/member/page.js'
