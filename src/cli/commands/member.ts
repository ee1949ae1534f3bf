import { access } from 'node:fs/promises'
import { basename, extname, join, resolve } from 'node:path'
import { Option, type Command } from 'commander'
import { connect, seg } from '../client.js'
import { usageError } from '../errors.js'
import { fields, formatTime, table } from '../output.js'
import { command, context, type CommonOptions } from './common.js'
import type { BlockBody, InboxMessageQuery, InboxMessageResponse, InboxResponse, JoinBody, JoinResponse, LeaveResponse, PostResponse, ReplyBody, SitesResponse } from '../../api/index.js'
import { DEFAULT_CONTENT_TYPE } from '../../node/contract.js'

/** Member commands: join, inbox, read, reply, save, delete, sites, leave, block, unblock. */

// src/cli/demo.ts reads the same answers
export type { JoinResponse, PostResponse }
export type InboxMessage = InboxMessageResponse

function joinCommand (): Command {
  return command('join', 'member: join a site with the invite token it gave you')
    .argument('<token>', 'the invite token (from "tmtp invite" at the site)')
    .action(async (token: string, opts: CommonOptions) => {
      const { dir, out } = context(opts)
      const { client } = await connect(dir, 'member', 'join')
      // the node removes the white space spec 9.3 allows (ASCII only; String.trim() also took U+00A0 and U+FEFF)
      const joined = await client.post<JoinResponse>('/v1/join', { token } satisfies JoinBody)
      out.result(joined, () => `joined ${joined.siteName !== '' ? `"${joined.siteName}" ` : ''}(site ${joined.site}) as member ${joined.member}`)
    })
}

function inboxCommand (): Command {
  return command('inbox', 'member: list the messages in the inbox')
    .option('--unread', 'only messages not read yet')
    .action(async (opts: CommonOptions & { unread?: boolean }) => {
      const { dir, out } = context(opts)
      const { client } = await connect(dir, 'member', 'inbox')
      const { messages } = await client.get<InboxResponse>('/v1/inbox', { unread: opts.unread === true ? 'true' : undefined })
      out.result({ messages }, () => messages.length === 0
        ? (opts.unread === true ? 'no unread messages' : 'the inbox is empty')
        : table(['', 'id', 'from', 'received', 'subject'], messages.map(m => [
          m.read ? '' : '*',
          m.id,
          sender(m),
          formatTime(m.received),
          m.subject
        ])))
    })
}

/** Who a message is from: the site's name, and the name of the site's group it was sent to, if any. */
function sender (m: InboxMessage): string {
  const site = m.siteName !== '' ? m.siteName : m.site
  return m.group !== '' ? `${site} · ${m.group}` : site
}

/** Ids are unique per site only: --site names the site whose message is meant, where two sent one id. */
function siteOption (): Option {
  return new Option('--site <peer>', 'the peer id of the site that sent it (see "tmtp inbox --json" or "tmtp sites"); needed only where two sites sent a message with this id')
}

interface MessageOptions extends CommonOptions {
  site?: string
}

function readCommand (): Command {
  return command('read', 'member: show a message (and mark it read)')
    .argument('<id>', 'the message id (from "tmtp inbox")')
    .addOption(siteOption())
    .action(async (id: string, opts: MessageOptions) => {
      const { dir, out } = context(opts)
      const { client } = await connect(dir, 'member', 'read')
      const m = await client.get<InboxMessageResponse>(`/v1/inbox/${seg(id)}`, { site: opts.site } satisfies InboxMessageQuery)
      out.result(m, () => [
        fields([
          ['from', m.siteName !== '' ? `${m.siteName} (${m.site})` : m.site],
          ['group', m.group !== '' ? m.group : undefined],
          ['subject', m.subject],
          ['sent', formatTime(m.created)],
          ['received', formatTime(m.received)],
          ['id', m.id],
          // only a type other than the default is worth a line
          ['type', m.contentType !== DEFAULT_CONTENT_TYPE ? m.contentType : undefined],
          ['in reply to', /^0*$/.test(m.replyTo) ? undefined : m.replyTo],
          ...m.attachments.map((a): [string, string] => [`attachment ${a.index}`, `${a.name} (${a.size} bytes, ${a.state}${a.code !== undefined ? ` ${a.code}` : ''})`])
        ]),
        '',
        m.body
      ].join('\n'))
    })
}

function replyCommand (): Command {
  return command('reply', 'member: reply to a message; the reply goes to the site that sent it')
    .argument('<id>', 'the message id')
    .requiredOption('--body <text>', 'the reply')
    .option('--subject <text>', 'the subject (default "Re: " and the original subject)')
    .addOption(siteOption())
    .action(async (id: string, opts: MessageOptions & { body: string, subject?: string }) => {
      const { dir, out } = context(opts)
      if (opts.body === '') throw usageError('--body must not be empty')
      const { client } = await connect(dir, 'member', 'reply')
      const body: ReplyBody = { body: opts.body }
      if (opts.subject !== undefined) body.subject = opts.subject
      const posted = await client.request<PostResponse>('POST', `/v1/inbox/${seg(id)}/reply`, { body, query: { site: opts.site } satisfies InboxMessageQuery })
      out.note('reply queued: it is sent to the site now, or retried until the site acknowledges it')
      out.result(posted, () => posted.id)
    })
}

/**
 * Where a file named by a site goes in `dir`: its name's last part (never a path), made unique
 * with " (n)" before the extension when a file of that name is there already (bounded tries).
 */
async function freePath (dir: string, name: string): Promise<string> {
  const safe = basename(name.replaceAll('\\', '/')).replace(/^\.+$/, '') || 'attachment'
  const ext = extname(safe)
  const stem = safe.slice(0, safe.length - ext.length)
  for (let n = 0; n < 1000; n++) {
    const candidate = join(dir, n === 0 ? safe : `${stem} (${n})${ext}`)
    if (!await access(candidate).then(() => true, () => false)) return candidate
  }
  throw usageError(`${dir} holds too many files named ${safe}`)
}

function saveCommand (): Command {
  return command('save', 'member: save a message\'s attachments as files (fetched from the site first if this device does not hold them yet)')
    .argument('<id>', 'the message id')
    .argument('[attachment]', 'which one: its number (from "tmtp read") or its name; default all')
    .option('--out <dir>', 'the folder to save into (default: the current one)')
    .addOption(siteOption())
    .action(async (id: string, which: string | undefined, opts: MessageOptions & { out?: string }) => {
      const { dir, out } = context(opts)
      const { client } = await connect(dir, 'member', 'save')
      const m = await client.get<InboxMessageResponse>(`/v1/inbox/${seg(id)}`, { site: opts.site } satisfies InboxMessageQuery)
      const chosen = which === undefined ? m.attachments : m.attachments.filter(a => String(a.index) === which || a.name === which)
      if (chosen.length === 0) throw usageError(which === undefined ? `message ${m.id} has no attachments` : `message ${m.id} has no attachment ${JSON.stringify(which)}`)
      const folder = resolve(opts.out ?? '.')
      const saved: Array<{ index: number, name: string, path: string, size: number }> = []
      for (const a of chosen) {
        const path = await freePath(folder, a.name)
        const size = await client.download(`/v1/inbox/${seg(m.id)}/attachments/${a.index}`, { site: m.site }, path)
        saved.push({ index: a.index, name: a.name, path, size })
      }
      out.result({ saved }, () => saved.map(s => `${s.path} (${s.size} bytes)`).join('\n'))
    })
}

function deleteCommand (): Command {
  return command('delete', 'member: delete a message from the inbox, with its attachments\' files (the site sending it again stores nothing)')
    .argument('<id>', 'the message id')
    .addOption(siteOption())
    .action(async (id: string, opts: MessageOptions) => {
      const { dir, out } = context(opts)
      const { client } = await connect(dir, 'member', 'delete')
      await client.request('DELETE', `/v1/inbox/${seg(id)}`, { query: { site: opts.site } satisfies InboxMessageQuery })
      out.result({ id, deleted: true }, () => `deleted ${id}`)
    })
}

function sitesCommand (): Command {
  return command('sites', 'member: list the sites this device joined')
    .action(async (opts: CommonOptions) => {
      const { dir, out } = context(opts)
      const { client } = await connect(dir, 'member', 'sites')
      const { sites } = await client.get<SitesResponse>('/v1/sites')
      out.result({ sites }, () => sites.length === 0
        ? 'no sites yet: join one with "tmtp join TOKEN"'
        : table(['site', 'name', 'member', 'joined', 'left'], sites.map(s => [s.peerId, s.name, s.member, formatTime(s.joined), formatTime(s.left)]), 80))
    })
}

function leaveCommand (): Command {
  return command('leave', 'member: leave a site (it is told, and blocked here for good)')
    .argument('<site>', 'the site\'s peer id (from "tmtp sites")')
    .action(async (site: string, opts: CommonOptions) => {
      const { dir, out } = context(opts)
      const { client } = await connect(dir, 'member', 'leave')
      const left = await client.delete<LeaveResponse>(`/v1/sites/${seg(site)}`)
      out.result(left, () => `left site ${left.site}${left.notified ? '' : ` (the site could not be told${left.code !== undefined ? `: ${left.code}` : ''}; it is blocked here anyway)`}`)
    })
}

function blockCommand (): Command {
  return command('block', 'member: refuse every connection and message from a peer')
    .argument('<peer>', 'a peer id')
    .action(async (peer: string, opts: CommonOptions) => {
      const { dir, out } = context(opts)
      const { client } = await connect(dir, 'member', 'block')
      await client.post('/v1/blocks', { peer } satisfies BlockBody)
      out.result({ peer, blocked: true }, () => `blocked ${peer}`)
    })
}

function unblockCommand (): Command {
  return command('unblock', 'member: accept a blocked peer again')
    .argument('<peer>', 'a peer id')
    .action(async (peer: string, opts: CommonOptions) => {
      const { dir, out } = context(opts)
      const { client } = await connect(dir, 'member', 'unblock')
      await client.delete(`/v1/blocks/${seg(peer)}`)
      out.result({ peer, blocked: false }, () => `unblocked ${peer}`)
    })
}

export function memberCommands (): Command[] {
  return [joinCommand(), inboxCommand(), readCommand(), replyCommand(), saveCommand(), deleteCommand(), sitesCommand(), leaveCommand(), blockCommand(), unblockCommand()]
}
