import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { ApiClient } from './client.js'
import { checkInbox, describeFaults } from './exactly-once.js'
import { initDataDir } from './commands/init.js'
import type { InboxMessage, JoinResponse, PostResponse } from './commands/member.js'
import type { InviteResponse, MessageStatusResponse, RepliesResponse, SendResponse } from './commands/site.js'
import { waitFor, WaitTimeout } from './time.js'
import { TmtpProcess } from './tmtp-process.js'

/**
 * `tmtp demo`: a site and two member devices, each its own `tmtp start` process on
 * 127.0.0.1, in temporary folders. Invites, joins, a send to both, a send while one device
 * is stopped (delivered when it comes back), a reply; then it checks that every message
 * arrived exactly once and the site holds a signed receipt for each device.
 */

const START_TIMEOUT_MS = 30_000
const WAIT_TIMEOUT_MS = 20_000
const STOP_TIMEOUT_MS = 10_000
const POLL_MS = 20
/** The subjects of the demo's two messages: the exactly-once check tells them apart by subject. */
const WELCOME = 'Welcome to Demo Club'
const MEETING = 'Meeting on Friday'

export interface DemoStep {
  n: number
  step: string
  ms: number
  detail: string
}

export interface DemoReceipt {
  message: string
  subject: string
  member: string
  device: string
  state: string
  /** From the send to the device's signed receipt, as the site recorded it. */
  latencyMs: number | null
  receipt: boolean
}

export interface DemoSummary {
  ok: boolean
  reason?: string
  totalMs: number
  steps: DemoStep[]
  receipts: DemoReceipt[]
  inboxes: Record<string, string[]>
  replies: number
}

export interface DemoOptions {
  /** Called as each step finishes (the human output prints it at once). */
  onStep?: (step: DemoStep) => void
  /** Copy the nodes' log lines to this stream. */
  logs?: NodeJS.WritableStream
  /** Leave the temporary folders in place (their path is in the failure reason or log). */
  keep?: boolean
  /** Settles when the demo must stop early (Ctrl-C): the demo cleans up and fails. */
  abort?: Promise<string>
}

class DemoFailure extends Error {
  override readonly name = 'DemoFailure'
}

/** One node of the demo: its data folder, and its `tmtp start` process while it runs. */
class DemoNode {
  readonly name: string
  readonly dir: string
  private readonly logs?: NodeJS.WritableStream
  private process?: TmtpProcess

  constructor (name: string, dir: string, logs?: NodeJS.WritableStream) {
    this.name = name
    this.dir = dir
    this.logs = logs
  }

  get running (): boolean {
    return this.process?.running === true
  }

  async start (): Promise<void> {
    try {
      this.process = await TmtpProcess.start(this.dir, { name: this.name, logs: this.logs, timeoutMs: START_TIMEOUT_MS })
    } catch (err) {
      throw new DemoFailure((err as Error).message)
    }
  }

  lastLog (): string {
    return this.process?.lastLog() ?? 'no output'
  }

  api (): ApiClient {
    const client = this.running ? this.process?.client : undefined
    if (client === undefined) throw new DemoFailure(`${this.name} is not running`)
    return client
  }

  /** SIGTERM, then SIGKILL after a while; resolves with the exit code (null when killed). */
  async stop (): Promise<number | null> {
    return (await this.process?.stop('SIGTERM', STOP_TIMEOUT_MS))?.code ?? 0
  }
}

/** Resolves once the message is delivered to every listed device (fails fast on expired, rejected, dropped). */
async function waitDelivered (site: ApiClient, id: string, devices: string[], label: string): Promise<MessageStatusResponse> {
  return await waitFor(`${label} to be delivered`, async () => {
    const status = await site.get<MessageStatusResponse>(`/v1/messages/${id}`)
    for (const d of status.devices) {
      if (devices.includes(d.device) && d.state !== 'queued' && d.state !== 'delivered') {
        throw new DemoFailure(`${label} to device ${d.device} ended ${d.state}${d.code !== undefined ? ` (${d.code})` : ''}`)
      }
    }
    const done = devices.every(device => status.devices.some(d => d.device === device && d.state === 'delivered'))
    return done ? status : undefined
  }, WAIT_TIMEOUT_MS, POLL_MS)
}

/** Runs the demo; never throws: the summary says what happened. Processes and folders are always cleaned up. */
export async function runDemo (opts: DemoOptions = {}): Promise<DemoSummary> {
  const began = performance.now()
  const summary: DemoSummary = { ok: false, totalMs: 0, steps: [], receipts: [], inboxes: {}, replies: 0 }
  const root = await mkdtemp(join(tmpdir(), 'tmtp-demo-'))
  const site = new DemoNode('site', join(root, 'site'), opts.logs)
  const alice = new DemoNode('alice', join(root, 'alice-phone'), opts.logs)
  const bob = new DemoNode('bob', join(root, 'bob-laptop'), opts.logs)
  const nodes = [site, alice, bob]

  const step = async <T>(name: string, run: () => Promise<T>, detail: (value: T) => string): Promise<T> => {
    const t0 = performance.now()
    const value = await run()
    const s: DemoStep = { n: summary.steps.length + 1, step: name, ms: Math.round(performance.now() - t0), detail: detail(value) }
    summary.steps.push(s)
    opts.onStep?.(s)
    return value
  }

  const scenario = async (): Promise<void> => {
    const ids = await step('create 3 data folders (identity keys, config, API token)', async () => {
      const s = await initDataDir(site.dir, { role: 'site', name: 'Demo Club' })
      const a = await initDataDir(alice.dir, { role: 'member', name: 'alice-phone' })
      const b = await initDataDir(bob.dir, { role: 'member', name: 'bob-laptop' })
      return { site: s.peerId, alice: a.peerId, bob: b.peerId }
    }, () => root)
    await step('start site, alice and bob (3 processes: tmtp start)', async () => {
      await Promise.all(nodes.map(async n => { await n.start() }))
    }, () => nodes.map(n => `${n.name} ${n.api().url}`).join(', '))
    const invites = await step('site issues invites for alice and bob', async () => ({
      alice: await site.api().post<InviteResponse>('/v1/invites', { ref: 'alice', expiresInSeconds: 600 }),
      bob: await site.api().post<InviteResponse>('/v1/invites', { ref: 'bob', expiresInSeconds: 600 })
    }), i => `2 one-time tokens, ${i.alice.token.length} characters each`)
    await step('alice joins the site', async () => await alice.api().post<JoinResponse>('/v1/join', { token: invites.alice.token }),
      j => `member ${j.member} of "${j.siteName}"`)
    await step('bob joins the site', async () => await bob.api().post<JoinResponse>('/v1/join', { token: invites.bob.token }),
      j => `member ${j.member} of "${j.siteName}"`)

    const first = await step('site sends message 1 to alice and bob', async () => await site.api().post<SendResponse>('/v1/messages', {
      to: ['alice', 'bob'], subject: WELCOME, body: 'Hello! This message is sealed for each of your devices.'
    }), m => `id ${m.id}, ${m.recipients.length} devices`)
    await step('message 1 delivered to both (signed receipts)', async () => await waitDelivered(site.api(), first.id, [ids.alice, ids.bob], 'message 1'),
      () => 'delivered on 2 of 2 devices')

    const code = await step('stop bob (SIGTERM)', async () => await bob.stop(), c => `exit code ${String(c)}`)
    if (code !== 0) throw new DemoFailure(`bob did not stop cleanly (exit code ${String(code)})`)
    const second = await step('site sends message 2 while bob is offline', async () => await site.api().post<SendResponse>('/v1/messages', {
      to: ['alice', 'bob'], subject: MEETING, body: 'The meeting moves to Friday, 18:00.', urgency: 'high'
    }), m => `id ${m.id}`)
    const queued = await step('message 2 delivered to alice, queued for bob', async () => {
      const status = await waitDelivered(site.api(), second.id, [ids.alice], 'message 2')
      return status.devices.find(d => d.device === ids.bob)?.state ?? 'missing'
    }, state => `bob: ${state}`)
    if (queued !== 'queued') throw new DemoFailure(`message 2 for bob is ${queued} while bob is offline, not queued`)
    await step('restart bob', async () => { await bob.start() }, () => `bob ${bob.api().url}`)
    await step('message 2 delivered to bob when he comes back', async () => await waitDelivered(site.api(), second.id, [ids.bob], 'message 2 to bob'),
      () => 'delivered on reconnect')

    const reply = await step('alice replies to message 1', async () => await alice.api().post<PostResponse>(`/v1/inbox/${first.id}/reply`, { body: 'Thanks, glad to be here!' }),
      r => `reply ${r.id}`)
    const replies = await step('site receives the reply', async () => await waitFor('the reply at the site', async () => {
      const page = await site.api().get<RepliesResponse>('/v1/replies')
      return page.replies.some(r => r.id === reply.id) ? page.replies : undefined
    }, WAIT_TIMEOUT_MS, POLL_MS), () => 'from alice, acknowledged')

    await step('check: every message exactly once, every receipt signed', async () => {
      const problems: string[] = []
      const sent = [{ subject: WELCOME, id: first.id }, { subject: MEETING, id: second.id }]
      for (const [name, node] of [['alice', alice], ['bob', bob]] as const) {
        const { messages } = await node.api().get<{ messages: InboxMessage[] }>('/v1/inbox')
        summary.inboxes[name] = messages.map(m => m.id)
        problems.push(...describeFaults(checkInbox(messages, sent)).map(fault => `${name}'s inbox: ${fault}`))
        if (messages.some(m => m.siteName !== 'Demo Club')) problems.push(`${name} sees a message from another site than "Demo Club"`)
      }
      for (const [label, id] of [['message 1', first.id], ['message 2', second.id]] as const) {
        const status = await site.api().get<MessageStatusResponse>(`/v1/messages/${id}`)
        for (const d of status.devices) {
          summary.receipts.push({
            message: label,
            subject: status.subject,
            member: d.device === ids.alice ? 'alice' : d.device === ids.bob ? 'bob' : d.member,
            device: d.device,
            state: d.state,
            latencyMs: d.state === 'delivered' ? d.at - status.created : null,
            receipt: d.proof !== undefined
          })
          if (d.state !== 'delivered') problems.push(`${label} is ${d.state} for device ${d.device}`)
          else if (d.proof === undefined) problems.push(`${label} has no signed receipt from device ${d.device}`)
        }
        if (status.devices.length !== 2) problems.push(`${label} went to ${status.devices.length} devices, not 2`)
      }
      const ours = replies.filter(r => r.id === reply.id)
      summary.replies = replies.length
      if (replies.length !== 1 || ours.length !== 1) problems.push(`the site holds ${replies.length} replies, not exactly alice's one`)
      else if (ours[0].replyTo !== first.id || ours[0].body !== 'Thanks, glad to be here!' || ours[0].ref !== 'alice') problems.push('the reply at the site is not the one alice sent')
      if (problems.length > 0) throw new DemoFailure(problems.join('; '))
    }, () => '2 inboxes x 2 messages, 4 receipts, 1 reply')

    await step('stop all nodes (SIGTERM)', async () => {
      const codes = await Promise.all(nodes.map(async n => await n.stop()))
      const unclean = nodes.filter((_, i) => codes[i] !== 0).map((n, i) => `${n.name} (exit ${String(codes[i])})`)
      if (unclean.length > 0) throw new DemoFailure(`unclean shutdown: ${unclean.join(', ')}`)
    }, () => 'clean exits')
  }

  try {
    const aborted = opts.abort?.then(why => { throw new DemoFailure(`interrupted (${why})`) })
    await (aborted === undefined ? scenario() : Promise.race([scenario(), aborted]))
    summary.ok = true
  } catch (err) {
    // the demo's own failures and timeouts say what went wrong; anything else gets the nodes' last log lines
    const explained = err instanceof DemoFailure || err instanceof WaitTimeout
    summary.reason = explained ? err.message : `${(err as Error).message ?? String(err)}`
    const running = nodes.filter(n => n.running).map(n => `${n.name}: ${n.lastLog()}`)
    if (!explained && running.length > 0) summary.reason += ` (last log lines: ${running.join('; ')})`
  } finally {
    await Promise.all(nodes.map(async n => await n.stop().catch(() => null)))
    if (opts.keep !== true) await rm(root, { recursive: true, force: true })
    summary.totalMs = Math.round(performance.now() - began)
  }
  return summary
}
