/**
 * The delivery layer: the outboxes and inboxes of both roles, the sender and receiver
 * engines of deliver and post streams, and the courier that carries an outbox to its peers
 * with retries. It dials through ports the node gives it and never imports the node.
 */
export * from './blob-fetch.js'
export * from './blob-server.js'
export * from './courier.js'
export * from './epoch-cache.js'
export * from './framed-stream.js'
export * from './ids.js'
export * from './member-inbox.js'
export * from './member-outbox.js'
export * from './receiver.js'
export * from './redialer.js'
export * from './reply-quota.js'
export * from './scheduler.js'
export type { ResolvedSend } from './send-content.js'
export * from './send-request.js'
export * from './sender.js'
export * from './site-outbox.js'
export * from './site-replies.js'
export * from './urgency.js'
