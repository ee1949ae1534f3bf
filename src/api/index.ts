/**
 * The HTTP APIs of TMTP nodes: the site API for a site's web backend and the member API
 * for the `tmtp` command on a member device. Both are fastify instances that the caller
 * makes listen (on loopback): `await api.listen({ host: '127.0.0.1', port })`.
 */
export { createSiteApi, SITE_API_INFO, type SiteApiOptions } from './site-api.js'
export { createMemberApi, MEMBER_API_INFO, type MemberApiOptions } from './member-api.js'
export { DEFAULT_BODY_LIMIT, type ApiLimits, type ApiOptions } from './server.js'
export { MIN_TOKEN_LENGTH } from './auth.js'
export { ApiError, toHttpError, type ApiErrorCode, type HttpError } from './errors.js'
export { API_VERSION, openApiDocument, type OpenApiDocument } from './openapi.js'
export type { RateLimitOptions } from './rate-limit.js'
export { SiteMetrics } from './metrics.js'
export {
  WebhookDispatcher,
  signWebhook,
  verifyWebhookSignature,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  EVENT_ID_HEADER,
  type WebhookConfig,
  type WebhookEvent,
  type WebhookStats
} from './webhooks.js'
