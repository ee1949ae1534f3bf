import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { Option, type Command } from 'commander'
import { connect, seg } from '../client.js'
import { formatSpan, parseDuration, toSeconds } from '../duration.js'
import { usageError } from '../errors.js'
import { fields, formatTime, table } from '../output.js'
import { collect, command, context, parseList, parsePositiveInt, type CommonOptions } from './common.js'
import type { AttachmentResponse, InviteBody, InviteResponse, MemberResponse, MembersResponse, MessageStatusResponse, RepliesResponse, SendBody, SendResponse } from '../../api/index.js'
import { COPY_STATES, DEFAULT_CONTENT_TYPE, DEFAULT_URGENCY, GROUP_ID_PATTERN, MAX_ATTACHMENTS, MAX_PAGE_SIZE, MEMBER_ID_PATTERN, REPORT_MODES, URGENCIES, type ReportMode, type Urgency } from '../../node/contract.js'

/** Site commands: invite, send, message, members, remove-member, replies. */

// src/cli/demo.ts reads the same answers
export type { InviteResponse, MessageStatusResponse, RepliesResponse, SendResponse }

// member ids (chosen by the site) and user references are separate names, told apart by the id's shape
const ID_SHAPE = `the shape of a member id (${MEMBER_ID_PATTERN.source})`

function inviteCommand (): Command {
  return command('invite', 'site: issue a one-time invite token (printed on stdout) for a member to join')
    .option('--ref <userref>', `the member's user reference at the site (another device of the same member: the same ref); never in ${ID_SHAPE}`)
    .option('--expires <duration>', 'lifetime of the invite, e.g. 30m, 2h, 7d (default: the node\'s, 7 days)', parseDuration)
    .action(async (opts: CommonOptions & { ref?: string, expires?: number }) => {
      const { dir, out } = context(opts)
      const { client } = await connect(dir, 'site', 'invite')
      const body: InviteBody = {}
      if (opts.ref !== undefined) body.ref = opts.ref
      if (opts.expires !== undefined) body.expiresInSeconds = toSeconds(opts.expires)
      const invite = await client.post<InviteResponse>('/v1/invites', body)
      out.note(`invite${invite.ref !== '' ? ` for ${invite.ref}` : ''}, valid until ${formatTime(invite.expires)}; the member runs: tmtp join <token>`)
      out.result(invite, () => invite.token)
    })
}

async function readBody (file: string): Promise<string> {
  try {
    if (file === '-') {
      const chunks: Buffer[] = []
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks).toString('utf8')
    }
    return await readFile(file, 'utf8')
  } catch (err) {
    throw usageError(`cannot read the body from ${file}: ${(err as Error).message}`)
  }
}

interface SendOptions extends CommonOptions {
  to?: string[]
  group?: string[]
  all?: boolean
  subject: string
  body?: string
  file?: string
  contentType?: string
  ttl?: number
  urgency?: Urgency
  topic?: string
  idempotencyKey?: string
  report?: ReportMode
  attach?: string[]
}

function sendCommand (): Command {
  return command('send', 'site: send a message to members, groups or all of them (at least one of --to, --group, --all); prints its id. Who it is for is decided once, now: each device of each member so named gets one copy')
    .option('--to <refs>', `members, comma-separated (repeatable): member ids or user references; a name in ${ID_SHAPE} is a member id`, parseList)
    .option('--group <group>', `every member of this group, by group id or name (repeatable: one group each, a name may hold commas); members see its name beside the site's; a name in the shape of a group id (${GROUP_ID_PATTERN.source}) is a group id`, collect)
    .option('--all', 'every member of the site')
    .requiredOption('--subject <text>', 'the subject')
    .option('--body <text>', 'the body')
    .option('--file <path>', 'read the body from a file (- for stdin)')
    .option('--content-type <type>', `media type of the body (default ${DEFAULT_CONTENT_TYPE})`)
    .option('--ttl <duration>', 'drop the message if not delivered within this, e.g. 2h, 7d (default 7 days)', parseDuration)
    .addOption(new Option('--urgency <urgency>', `delivery order: higher goes first (default ${DEFAULT_URGENCY})`).choices(URGENCIES))
    .option('--topic <topic>', 'a newer message with the same topic replaces an undelivered older one')
    .option('--idempotency-key <key>', 'a retried send with the same key sends nothing and returns the first id')
    .addOption(new Option('--report <mode>', 'webhook events: one per device copy (per-device, the default), or one broadcast event with the counts once every copy settled (once)').choices(REPORT_MODES))
    .option('--attach <path>', `attach a file (repeatable, at most ${MAX_ATTACHMENTS}): uploaded to the site once, then fetched by each recipient device`, collect)
    .action(async (opts: SendOptions) => {
      const { dir, out } = context(opts)
      if ((opts.body === undefined) === (opts.file === undefined)) throw usageError('give the body with exactly one of --body TEXT or --file PATH')
      if (opts.to === undefined && opts.group === undefined && opts.all !== true) throw usageError('name the recipients with --to, --group or --all')
      const body = opts.body ?? await readBody(opts.file as string)
      const { client } = await connect(dir, 'site', 'send')
      const { subject } = opts
      // the schema's type: at least one of to, groups, all (checked above)
      const request: SendBody = opts.to !== undefined ? { to: opts.to, subject, body } : opts.group !== undefined ? { groups: opts.group, subject, body } : { all: true, subject, body }
      if (opts.group !== undefined) request.groups = opts.group
      if (opts.all === true) request.all = true
      if (opts.contentType !== undefined) request.contentType = opts.contentType
      if (opts.ttl !== undefined) request.ttlSeconds = toSeconds(opts.ttl)
      if (opts.urgency !== undefined) request.urgency = opts.urgency
      if (opts.topic !== undefined) request.topic = opts.topic
      if (opts.report !== undefined) request.report = opts.report
      if (opts.attach !== undefined) {
        if (opts.attach.length > MAX_ATTACHMENTS) throw usageError(`at most ${MAX_ATTACHMENTS} attachments a message`)
        const uploads: string[] = []
        for (const path of opts.attach) uploads.push((await client.upload<AttachmentResponse>('/v1/attachments', path, { name: basename(path) })).id)
        request.attachments = uploads
      }
      const headers = opts.idempotencyKey !== undefined ? { 'idempotency-key': opts.idempotencyKey } : undefined
      const sent = await client.post<SendResponse>('/v1/messages', request, headers)
      const devices = sent.devices
      out.note(`${sent.duplicate ? 'already sent (same idempotency key)' : sent.fanout ? 'accepted (sealed in the background)' : 'queued'} for ${devices} device${devices === 1 ? '' : 's'}; see it with: tmtp message ${sent.id}`)
      out.result(sent, () => sent.id)
    })
}

function messageCommand (): Command {
  return command('message', 'site: show a message\'s copies by state and its delivery state on each recipient device, a page at a time')
    .argument('<id>', 'the message id')
    .option('--after <cursor>', 'the devices after this cursor (the "next" of an earlier page)')
    .option('--limit <n>', `at most this many devices (1 to ${MAX_PAGE_SIZE}; default ${MAX_PAGE_SIZE})`, parsePositiveInt)
    .action(async (id: string, opts: CommonOptions & { after?: string, limit?: number }) => {
      const { dir, out } = context(opts)
      const { client } = await connect(dir, 'site', 'message')
      const query: Record<string, string> = {}
      if (opts.after !== undefined) query.after = opts.after
      if (opts.limit !== undefined) query.limit = String(opts.limit)
      const status = await client.get<MessageStatusResponse>(`/v1/messages/${seg(id)}`, query)
      if (status.next !== null) out.note(`more devices follow: tmtp message ${status.id} --after ${status.next}`)
      out.result(status, () => [
        fields([
          ['id', status.id],
          ['subject', status.subject],
          ['sent', formatTime(status.created)],
          ['expires', formatTime(status.expires)],
          ['urgency', status.urgency],
          ['topic', status.topic],
          ['devices', `${status.total}: ${COPY_STATES.filter(s => status.counts[s] > 0).map(s => `${status.counts[s]} ${s}`).join(', ')}`]
        ]),
        '',
        table(['member', 'device', 'seq', 'state', 'since', 'after', 'receipt'], status.devices.map(d => [
          d.member,
          d.device,
          d.seq,
          d.state + (d.code !== undefined ? ` (${d.code})` : ''),
          formatTime(d.at),
          d.state === 'queued' || d.state === 'pending' ? '' : formatSpan(d.at - status.created),
          d.proof !== undefined ? 'signed' : ''
        ]), 80)
      ].join('\n'))
    })
}

function membersCommand (): Command {
  return command('members', 'site: list members and their devices')
    .action(async (opts: CommonOptions) => {
      const { dir, out } = context(opts)
      const { client } = await connect(dir, 'site', 'members')
      const { members } = await client.get<MembersResponse>('/v1/members')
      out.result({ members }, () => members.length === 0
        ? 'no members yet: issue an invite with "tmtp invite --ref USERREF"'
        : table(['member', 'ref', 'since', 'devices'], members.map(m => [
          m.id,
          m.ref,
          formatTime(m.created),
          m.devices.map(d => d.name !== '' ? `${d.peerId} (${d.name})` : d.peerId).join(', ')
        ]), 200))
    })
}

function removeMemberCommand (): Command {
  return command('remove-member', 'site: remove a member and all its devices at once: their connections end, their queued messages are dropped, and invites not yet redeemed for its reference are revoked; it leaves its groups')
    .argument('<member>', `member id or user reference; a name in ${ID_SHAPE} is a member id`)
    .action(async (member: string, opts: CommonOptions) => {
      const { dir, out } = context(opts)
      const { client } = await connect(dir, 'site', 'remove-member')
      const removed = await client.delete<MemberResponse>(`/v1/members/${seg(member)}`)
      out.result(removed, () => `removed member ${removed.ref !== '' ? removed.ref : removed.id}`)
    })
}

function repliesCommand (): Command {
  return command('replies', 'site: list replies received from members, oldest first')
    .option('--after <cursor>', 'only replies after this cursor (the "next" of an earlier page)')
    .option('--limit <n>', 'at most this many (default 100)', parsePositiveInt)
    .action(async (opts: CommonOptions & { after?: string, limit?: number }) => {
      const { dir, out } = context(opts)
      const { client } = await connect(dir, 'site', 'replies')
      const page = await client.get<RepliesResponse>('/v1/replies', { after: opts.after, limit: opts.limit })
      if (page.next !== undefined && page.next !== null && page.next !== '') out.note(`more may follow: tmtp replies --after ${page.next}`)
      out.result(page, () => page.replies.length === 0
        ? 'no replies'
        : table(['received', 'from', 'subject', 'body', 'in reply to', 'id'], page.replies.map(r => [
          formatTime(r.received),
          r.ref !== '' ? r.ref : r.member,
          r.subject,
          r.body,
          r.replyTo,
          r.id
        ]), 40))
    })
}

export function siteCommands (): Command[] {
  return [inviteCommand(), sendCommand(), messageCommand(), membersCommand(), removeMemberCommand(), repliesCommand()]
}
