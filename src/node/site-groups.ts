import { randomBytes } from '../crypto/index.js'
import { Mutex, NodeError, toHex } from '../util/index.js'
import type { GroupRecord, GroupView, MemberRecord, SiteStore } from '../store/index.js'
import { checkGroupName, checkMemberNames, checkPageSize } from './group-rules.js'

export interface SiteGroupsOptions {
  store: SiteStore
  /** The membership's lock: a member is never added to a group while it is being removed from the site. */
  lock: Mutex
  now: () => number
}

/** A member of a group, as its pages list it. */
export interface GroupMember {
  id: string
  ref: string
}

export interface GroupPage {
  groups: GroupView[]
  /** The cursor of the next page (pass it as `after`), null at the end. */
  next: string | null
}

export interface GroupMembersPage {
  members: GroupMember[]
  next: string | null
}

/** What adding or removing members did: how many joined (or left) the group, and the group now. */
export interface GroupChange {
  changed: number
  group: GroupView
}

export interface PageRequest {
  after?: string
  limit?: number
}

/**
 * Named groups of the site's members: the site's business alone (a send names them, the
 * outbox resolves them into devices once, when it accepts the message). A group is named by
 * its id or its name, as a member by its id or reference; changes run under the membership's
 * lock, so a member that leaves the site leaves its groups in the same write.
 */
export class SiteGroups {
  private readonly store: SiteStore
  private readonly lock: Mutex
  private readonly now: () => number

  constructor (opts: SiteGroupsOptions) {
    this.store = opts.store
    this.lock = opts.lock
    this.now = opts.now
  }

  async create (req: { name: string, members?: string[] }): Promise<GroupView> {
    const name = checkGroupName(req?.name)
    const names = checkMemberNames(req.members ?? [])
    return await this.lock.run(async () => {
      await this.requireFreeName(name)
      const members = await this.resolveMembers(names)
      const group: GroupRecord = { id: newGroupId(), name, created: this.now() }
      await this.store.write([...this.store.groups.createGroup(group), ...this.store.groups.addMembers(group.id, members)])
      return await this.store.groups.view(group)
    })
  }

  async rename (groupName: string, newName: string): Promise<GroupView> {
    const name = checkGroupName(newName)
    return await this.lock.run(async () => {
      const group = await this.require(groupName)
      if (group.name !== name) {
        await this.requireFreeName(name)
        await this.store.write(this.store.groups.renameGroup(group, name))
      }
      return await this.store.groups.view({ ...group, name })
    })
  }

  /** Deletes the group (its members stay members of the site); answers it as it was. */
  async delete (groupName: string): Promise<GroupView> {
    return await this.lock.run(async () => {
      const group = await this.require(groupName)
      const view = await this.store.groups.view(group)
      await this.store.write(await this.store.groups.deleteGroup(group))
      return view
    })
  }

  async group (groupName: string): Promise<GroupView> {
    return await this.store.groups.view(await this.require(groupName))
  }

  async groups (req: PageRequest = {}): Promise<GroupPage> {
    const page = await this.store.groups.groups({ after: req.after, limit: checkPageSize(req.limit) })
    return { groups: page.items, next: page.next }
  }

  async members (groupName: string, req: PageRequest = {}): Promise<GroupMembersPage> {
    const group = await this.require(groupName)
    const page = await this.store.groups.memberPage(group.id, { after: req.after, limit: checkPageSize(req.limit) })
    const records = await this.store.membersById(page.items)
    return { members: records.flatMap(m => m === undefined ? [] : [{ id: m.id, ref: m.ref }]), next: page.next }
  }

  /** Adds members (by id or reference); those already in the group stay, uncounted. All or nothing: an unknown name changes nothing. */
  async add (groupName: string, memberNames: string[]): Promise<GroupChange> {
    const names = checkMemberNames(memberNames)
    return await this.change(groupName, names, false)
  }

  /** Removes members (by id or reference); those not in the group are not counted. */
  async remove (groupName: string, memberNames: string[]): Promise<GroupChange> {
    const names = checkMemberNames(memberNames)
    return await this.change(groupName, names, true)
  }

  /** The groups a member is in, by name. */
  async memberGroups (memberName: string): Promise<GroupView[]> {
    const member = await this.store.memberByName(memberName)
    if (member === undefined) throw unknownMember(memberName)
    const groups = await Promise.all((await this.store.groups.groupIdsOf(member.id)).map(async id => await this.store.groups.group(id)))
    const views = await Promise.all(groups.flatMap(g => g === undefined ? [] : [this.store.groups.view(g)]))
    return views.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  }

  private async change (groupName: string, names: string[], leave: boolean): Promise<GroupChange> {
    return await this.lock.run(async () => {
      const group = await this.require(groupName)
      const members = await this.resolveMembers(names)
      const inGroup = await this.store.groups.contains(group.id, members)
      const changing = members.filter((_, i) => inGroup[i] === leave)
      if (changing.length > 0) {
        await this.store.write(leave ? this.store.groups.removeMembers(group.id, changing) : this.store.groups.addMembers(group.id, changing))
      }
      return { changed: changing.length, group: await this.store.groups.view(group) }
    })
  }

  private async require (groupName: string): Promise<GroupRecord> {
    const group = typeof groupName === 'string' && groupName !== '' ? await this.store.groups.groupByName(groupName) : undefined
    if (group === undefined) throw new NodeError('UNKNOWN_GROUP', `no group with id or name ${JSON.stringify(groupName)}`)
    return group
  }

  private async requireFreeName (name: string): Promise<void> {
    if (await this.store.groups.groupByName(name) !== undefined) throw new NodeError('GROUP_NAME_TAKEN', `the site has a group named ${JSON.stringify(name)} already`)
  }

  /** Member ids of these names, each once; UNKNOWN_MEMBER names the first unknown one. */
  private async resolveMembers (names: string[]): Promise<string[]> {
    const ids = new Set<string>()
    for (const name of names) {
      const member: MemberRecord | undefined = await this.store.memberByName(name)
      if (member === undefined) throw unknownMember(name)
      ids.add(member.id)
    }
    return [...ids]
  }
}

function unknownMember (name: string): NodeError {
  return new NodeError('UNKNOWN_MEMBER', `no member with id or reference ${JSON.stringify(name)}`)
}

/** A fresh group id, of GROUP_ID_PATTERN's shape. */
function newGroupId (): string {
  return 'g' + toHex(randomBytes(8))
}
