import { Command } from 'commander'
import { connect, seg, type ApiClient } from '../client.js'
import { formatTime, table } from '../output.js'
import { command, context, parsePositiveInt, type CommonOptions } from './common.js'
import type { CreateGroupBody, GroupChangeResponse, GroupMembersBody, GroupMembersResponse, GroupPageResponse, GroupResponse, MemberGroupsResponse, RenameGroupBody } from '../../api/index.js'
import { GROUP_ID_PATTERN, MAX_GROUP_MEMBERS_PER_REQUEST, MAX_GROUP_NAME_BYTES, MAX_PAGE_SIZE, MEMBER_ID_PATTERN } from '../../node/contract.js'

/** Site commands on groups of members: groups, and group create|rename|delete|add|remove|members. */

const GROUP_ARG = `group id or name (a name in the shape of a group id (${GROUP_ID_PATTERN.source}) is a group id)`
const MEMBERS_ARG = `member ids or user references, at most ${MAX_GROUP_MEMBERS_PER_REQUEST} (a name in the shape of a member id (${MEMBER_ID_PATTERN.source}) is a member id)`
const NAME_ARG = `the group's name, which members see beside the site's: 1 to ${MAX_GROUP_NAME_BYTES} bytes on one line, unique at the site`

interface PageOptions extends CommonOptions {
  after?: string
  limit?: number
}

/** --after and --limit of a paged listing. */
function paged (cmd: Command): Command {
  return cmd
    .option('--after <cursor>', 'the page after this cursor (the "next" of an earlier page)')
    .option('--limit <n>', `at most this many (1 to ${MAX_PAGE_SIZE}; default 100)`, parsePositiveInt)
}

function groupTable (groups: GroupResponse[]): string {
  return table(['group', 'name', 'members', 'since'], groups.map(g => [g.id, g.name, g.size, formatTime(g.created)]), 130)
}

/** Runs a group command against the site's API. */
async function site (opts: CommonOptions, name: string): Promise<{ client: ApiClient, out: ReturnType<typeof context>['out'] }> {
  const { dir, out } = context(opts)
  const { client } = await connect(dir, 'site', name)
  return { client, out }
}

function groupsCommand (): Command {
  return paged(command('groups', 'site: list the groups of members, by name; with --member, the groups of one member'))
    .option('--member <member>', 'only the groups of this member (member id or user reference)')
    .action(async (opts: PageOptions & { member?: string }) => {
      const { client, out } = await site(opts, 'groups')
      if (opts.member !== undefined) {
        const { groups } = await client.get<MemberGroupsResponse>(`/v1/members/${seg(opts.member)}/groups`)
        out.result({ groups }, () => groups.length === 0 ? `${opts.member} is in no group` : groupTable(groups))
        return
      }
      const page = await client.get<GroupPageResponse>('/v1/groups', { after: opts.after, limit: opts.limit })
      if (page.next !== null) out.note(`more follow: tmtp groups --after ${page.next}`)
      out.result(page, () => page.groups.length === 0 ? 'no groups yet: create one with "tmtp group create NAME [MEMBER...]"' : groupTable(page.groups))
    })
}

function createCommand (): Command {
  return command('create', 'create a group, with its first members if given')
    .argument('<name>', NAME_ARG)
    .argument('[members...]', MEMBERS_ARG)
    .action(async (name: string, members: string[], opts: CommonOptions) => {
      const { client, out } = await site(opts, 'group create')
      const body: CreateGroupBody = { name }
      if (members.length > 0) body.members = members
      const group = await client.post<GroupResponse>('/v1/groups', body)
      out.result(group, () => `created group ${JSON.stringify(group.name)} (${group.id}) with ${group.size} member${group.size === 1 ? '' : 's'}`)
    })
}

function renameCommand (): Command {
  return command('rename', 'rename a group (messages already sent keep the name they were sent with)')
    .argument('<group>', GROUP_ARG)
    .argument('<name>', `the new name: ${NAME_ARG}`)
    .action(async (groupName: string, name: string, opts: CommonOptions) => {
      const { client, out } = await site(opts, 'group rename')
      const group = await client.request<GroupResponse>('PATCH', `/v1/groups/${seg(groupName)}`, { body: { name } satisfies RenameGroupBody })
      out.result(group, () => `group ${group.id} is now ${JSON.stringify(group.name)}`)
    })
}

function deleteCommand (): Command {
  return command('delete', 'delete a group: its members stay members of the site, and messages already sent to it are still delivered')
    .argument('<group>', GROUP_ARG)
    .action(async (groupName: string, opts: CommonOptions) => {
      const { client, out } = await site(opts, 'group delete')
      const group = await client.delete<GroupResponse>(`/v1/groups/${seg(groupName)}`)
      out.result(group, () => `deleted group ${JSON.stringify(group.name)} (${group.id})`)
    })
}

/** group add and group remove: the same request to two routes. */
function changeCommand (verb: 'add' | 'remove'): Command {
  const [description, path, done] = verb === 'add'
    ? ['add members to a group (all or nothing: an unknown member adds nobody)', 'members', 'joined']
    : ['remove members from a group; messages already sent to them through it are still delivered (who a message is for is decided when it is sent)', 'members/remove', 'left']
  return command(verb, description)
    .argument('<group>', GROUP_ARG)
    .argument('<members...>', MEMBERS_ARG)
    .action(async (groupName: string, members: string[], opts: CommonOptions) => {
      const { client, out } = await site(opts, `group ${verb}`)
      const change = await client.post<GroupChangeResponse>(`/v1/groups/${seg(groupName)}/${path}`, { members } satisfies GroupMembersBody)
      out.result(change, () => `${change.changed} ${done} ${JSON.stringify(change.group.name)}, which has ${change.group.size} member${change.group.size === 1 ? '' : 's'}`)
    })
}

function membersCommand (): Command {
  return paged(command('members', 'list a group\'s members, by member id'))
    .argument('<group>', GROUP_ARG)
    .action(async (groupName: string, opts: PageOptions) => {
      const { client, out } = await site(opts, 'group members')
      const page = await client.get<GroupMembersResponse>(`/v1/groups/${seg(groupName)}/members`, { after: opts.after, limit: opts.limit })
      if (page.next !== null) out.note(`more follow: tmtp group members ${JSON.stringify(groupName)} --after ${page.next}`)
      out.result(page, () => page.members.length === 0 ? 'no members' : table(['member', 'ref'], page.members.map(m => [m.id, m.ref]), 260))
    })
}

function groupCommand (): Command {
  return new Command('group')
    .description('site: manage a group of members (a send names groups with --group)')
    .addCommand(createCommand())
    .addCommand(renameCommand())
    .addCommand(deleteCommand())
    .addCommand(changeCommand('add'))
    .addCommand(changeCommand('remove'))
    .addCommand(membersCommand())
}

export function groupCommands (): Command[] {
  return [groupsCommand(), groupCommand()]
}
