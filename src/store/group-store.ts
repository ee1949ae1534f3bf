import { fromString as uint8ArrayFromString } from 'uint8arrays'
import { add, decodeJson, del, put, type Database, type Write } from './database.js'
import { cursorOfKey, keyOfCursor } from './cursor.js'
import { isGroupId } from './group-id.js'
import { toHex } from '../util/index.js'

/**
 * The site's groups of members: records, both indexes of who is in which group, and their
 * sizes. Part of the site's layout (site-store.ts lists the keys):
 *
 *   grp:<group id>               GroupRecord
 *   gn:<hex of the UTF-8 name>   group id: names are unique; hex keeps the keys ASCII and in
 *                                the names' byte order (a raw name above U+00FF would sort
 *                                past the prefix's '\xff' bound)
 *   gm:<group id>:<member id>    the member is in the group (empty value), in member id order
 *   mg:<member id>:<group id>    the same, by member: a member's groups, and its leaving them
 *   gc:<group id>                members in the group (a counter; it stays at 0 when the
 *                                group is deleted: ids are never reused)
 */

export interface GroupRecord {
  id: string
  /** The display name, unique at the site; carried in the Content of a group send. */
  name: string
  created: number
}

/** A group with its size, as the site shows it. */
export interface GroupView extends GroupRecord {
  /** Members in the group. */
  size: number
}

/** One page of an ordered listing; `next` is the cursor to read on from, null at the end. */
export interface Page<T> {
  items: T[]
  next: string | null
}

const EMPTY = new Uint8Array(0)

const key = {
  group: (id: string) => `grp:${id}`,
  name: (name: string) => `gn:${toHex(uint8ArrayFromString(name))}`,
  member: (group: string, member: string) => `gm:${group}:${member}`,
  membersOf: (group: string) => `gm:${group}:`,
  groupOf: (member: string, group: string) => `mg:${member}:${group}`,
  groupsOf: (member: string) => `mg:${member}:`,
  size: (group: string) => `gc:${group}`
}

const NAME_KEY = /^gn:(?:[0-9a-f]{2})+$/
const MEMBER_KEY = /^gm:g[0-9a-f]{16}:m[0-9a-f]{16}$/

export class GroupStore {
  private readonly db: Database

  constructor (db: Database) {
    this.db = db
  }

  group = async (id: string): Promise<GroupRecord | undefined> => await this.db.getJson(key.group(id))

  /** The group a name stands for: a group id if it has the shape of one, else a group name. */
  async groupByName (name: string): Promise<GroupRecord | undefined> {
    if (isGroupId(name)) return await this.group(name)
    const id = await this.db.getJson<string>(key.name(name))
    return id === undefined ? undefined : await this.group(id)
  }

  async view (group: GroupRecord): Promise<GroupView> {
    return { ...group, size: await this.db.counter(key.size(group.id)) }
  }

  /** Groups in the byte order of their names, after a cursor from an earlier page. */
  async groups (options: { after?: string, limit: number }): Promise<Page<GroupView>> {
    const after = options.after === undefined ? undefined : keyOfCursor(options.after, k => NAME_KEY.test(k), 'groups')
    // one more than asked tells whether a next page exists
    const page = await this.db.range('gn:', { after, limit: options.limit + 1 })
    const shown = page.slice(0, options.limit)
    const records = await this.db.getMany(shown.map(([, id]) => key.group(decodeJson<string>(id))))
    const groups = await Promise.all(records.flatMap(r => r === undefined ? [] : [this.view(decodeJson<GroupRecord>(r))]))
    return { items: groups, next: page.length > options.limit ? cursorOfKey(shown[shown.length - 1][0]) : null }
  }

  /** Member ids of a group in id order, after a cursor from an earlier page of the same group. */
  async memberPage (group: string, options: { after?: string, limit: number }): Promise<Page<string>> {
    const prefix = key.membersOf(group)
    const after = options.after === undefined ? undefined : keyOfCursor(options.after, k => MEMBER_KEY.test(k) && k.startsWith(prefix), 'group members')
    const page = await this.db.range(prefix, { after, limit: options.limit + 1 })
    const shown = page.slice(0, options.limit)
    return { items: shown.map(([k]) => k.slice(prefix.length)), next: page.length > options.limit ? cursorOfKey(shown[shown.length - 1][0]) : null }
  }

  /** Whether each member is in the group. */
  async contains (group: string, members: string[]): Promise<boolean[]> {
    return (await this.db.getMany(members.map(m => key.member(group, m)))).map(v => v !== undefined)
  }

  /** The ids of the groups a member is in. */
  async groupIdsOf (member: string): Promise<string[]> {
    const prefix = key.groupsOf(member)
    return (await this.db.range(prefix, { limit: -1 })).map(([k]) => k.slice(prefix.length))
  }

  createGroup (group: GroupRecord): Write[] {
    return [put(key.group(group.id), group), put(key.name(group.name), group.id)]
  }

  renameGroup (group: GroupRecord, name: string): Write[] {
    return [del(key.name(group.name)), put(key.name(name), group.id), put(key.group(group.id), { ...group, name })]
  }

  /** The group, its name and every membership in it go. */
  async deleteGroup (group: GroupRecord): Promise<Write[]> {
    const prefix = key.membersOf(group.id)
    const members = (await this.db.range(prefix, { limit: -1 })).map(([k]) => k.slice(prefix.length))
    return [
      del(key.group(group.id)),
      del(key.name(group.name)),
      ...members.flatMap(m => [del(key.member(group.id, m)), del(key.groupOf(m, group.id))]),
      add(key.size(group.id), -members.length)
    ]
  }

  /** Members not in the group yet join it (the caller checked that they are not: the size counts them). */
  addMembers (group: string, members: string[]): Write[] {
    return [...members.flatMap(m => [put(key.member(group, m), EMPTY), put(key.groupOf(m, group), EMPTY)]), add(key.size(group), members.length)]
  }

  /** Members of the group leave it (the caller checked that they are in it). */
  removeMembers (group: string, members: string[]): Write[] {
    return [...members.flatMap(m => [del(key.member(group, m)), del(key.groupOf(m, group))]), add(key.size(group), -members.length)]
  }

  /** Writes that take a member out of every group it is in (it leaves the site). */
  async leaveGroups (member: string): Promise<Write[]> {
    return (await this.groupIdsOf(member)).flatMap(group => this.removeMembers(group, [member]))
  }
}
