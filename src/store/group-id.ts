/**
 * A group id: 'g' and 16 hex digits, chosen by the site when the group is created. Group
 * names are another namespace: a name may not have this shape, so a name of this shape
 * always means a group id (as with member ids and user references).
 */
export const GROUP_ID_PATTERN = /^g[0-9a-f]{16}$/

export function isGroupId (name: string): boolean {
  return GROUP_ID_PATTERN.test(name)
}
