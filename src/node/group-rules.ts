// leaf files, not the layers' faces: the node's light contract (contract.ts) loads this file
import { MAX_GROUP_NAME_BYTES } from '../protocol/constants.js'
import { GROUP_ID_PATTERN, isGroupId } from '../store/group-id.js'
import { NodeError } from '../util/node-error.js'

/** The most members one request adds to or removes from a group (more: TOO_MANY_MEMBERS). */
export const MAX_GROUP_MEMBERS_PER_REQUEST = 1000

/** Groups and group members a page holds unless the caller asks for fewer; the most it may ask for. */
export const DEFAULT_PAGE_SIZE = 100
export const MAX_PAGE_SIZE = 1000

const encoder = new TextEncoder()

// C0 and C1 controls, DEL, and the line and paragraph separators: a name is one line of text
const CONTROL = /[\p{Cc}\u2028\u2029]/u

/**
 * A group's name is its display name: members see it beside the site's name, so it is one
 * line of text, 1 to MAX_GROUP_NAME_BYTES bytes of UTF-8 (what Content.group carries), without
 * control characters or white space at either end, and never in the shape of a group id.
 * Throws INVALID_GROUP_NAME saying which rule it breaks.
 */
export function checkGroupName (name: unknown): string {
  const refuse = (why: string): never => { throw new NodeError('INVALID_GROUP_NAME', `a group name ${why}`) }
  if (typeof name !== 'string' || name === '') return refuse('is a non-empty string')
  if (name.length > MAX_GROUP_NAME_BYTES || encoder.encode(name).byteLength > MAX_GROUP_NAME_BYTES) return refuse(`is at most ${MAX_GROUP_NAME_BYTES} bytes of UTF-8`)
  if (!name.isWellFormed()) return refuse('is valid Unicode (no lone surrogate)')
  if (CONTROL.test(name)) return refuse('has no control characters or line breaks')
  if (name.trim() !== name) return refuse('neither starts nor ends with white space')
  if (isGroupId(name)) return refuse(`never has the shape of a group id (${GROUP_ID_PATTERN.source})`)
  return name
}

/** Checks the names of members in one group request: 1 to MAX_GROUP_MEMBERS_PER_REQUEST strings. */
export function checkMemberNames (members: unknown): string[] {
  if (!Array.isArray(members) || !members.every(m => typeof m === 'string' && m !== '')) {
    throw new NodeError('INVALID_ARGUMENT', 'members must be a list of member ids or references')
  }
  if (members.length > MAX_GROUP_MEMBERS_PER_REQUEST) {
    throw new NodeError('TOO_MANY_MEMBERS', `at most ${MAX_GROUP_MEMBERS_PER_REQUEST} members per request, got ${members.length}: split the list`)
  }
  return members as string[]
}

/** A page size: 1 to MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE when absent. */
export function checkPageSize (limit: unknown): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new NodeError('INVALID_ARGUMENT', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`)
  }
  return limit
}
