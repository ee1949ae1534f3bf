/**
 * What a member device knows of an attachment it was sent (spec 15.6): wanted, to fetch (at
 * once, or again after a cut or a restart); fetched, the file is whole and checked; failed,
 * given up, with the code. A leaf file: the node's light contract exports it.
 */
export const ATTACHMENT_STATES = ['wanted', 'fetched', 'failed'] as const

export type AttachmentState = typeof ATTACHMENT_STATES[number]
