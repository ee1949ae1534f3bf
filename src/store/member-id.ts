/**
 * A member id: 'm' and 16 hex digits, chosen by the site when the member's first device
 * joins. User references are another namespace: a reference may not have this shape, so a
 * name of this shape always means a member id.
 */
export const MEMBER_ID_PATTERN = /^m[0-9a-f]{16}$/

export function isMemberId (name: string): boolean {
  return MEMBER_ID_PATTERN.test(name)
}
