import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { ApiClient } from './client.js'
import { readRuntime, readToken } from './config.js'
import { initDataDir } from './commands/init.js'
import type { InboxMessage, JoinResponse, PostResponse } from './commands/member.js'
import type { InviteResponse, MessageStatusResponse, RepliesResponse, SendResponse } from './commands/site.js'

/**
 * `tmtp demo`: a site and two member devices, each its own `tmtp start` process on
 * 127.0.0.1, in temporary folders. Invites, joins, a send to both, a send while one device
 * is stopped (delivered when it comes back), a reply; then it checks that every message
 * arrived exactly once and the site holds a signed receipt for each device.
 */

const BIN = fileURLToPath(new URL('../../bin/tmtp.js', import.meta.url))
const START_TIMEOUT_MS = 30_000
const WAIT_TIMEOUT_MS = 20_000
const STOP_TIMEOUT_MS = 10_000
const POLL_MS = 20

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

/** One `tmtp start` child process. It also stops on its own if this process goes away (IPC). */
class NodeProcess {
  readonly name: string
  readonly dir: string
  private child?: ChildProcess
  private exit?: Promise<number | null>
  private readonly tail: string[] = []
  private readonly logs?: NodeJS.WritableStream
  client?: ApiClient

  constructor (name: string, dir: string, logs?: NodeJS.WritableStream) {
    this.name = name
    this.dir = dir
    this.logs = logs
  }

  get running (): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  async start (): Promise<void> {
    const child = spawn(process.execPath, [BIN, 'start', '--data', this.dir], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
    this.child = child
    this.exit = new Promise(resolve => { child.once('exit', code => { resolve(code) }) })
    let partial = ''
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) {
        this.tail.push(line)
        if (this.tail.length > 20) this.tail.shift()
        this.logs?.write(`[${this.name}] ${line}\n`)
      }
    })
    child.on('error', () => {})
    child.unref()
    const deadline = Date.now() + START_TIMEOUT_MS
    while (Date.now() < deadline) {
      if (!this.running) throw new DemoFailure(`${this.name} exited while starting (code ${String(child.exitCode)}): ${this.lastLog()}`)
      const runtime = await readRuntime(this.dir)
      if (runtime !== undefined && runtime.pid === child.pid) {
        this.client = new ApiClient(runtime.url, await readToken(this.dir))
        return
      }
      await delay(POLL_MS)
    }
    throw new DemoFailure(`${this.name} did not start within ${START_TIMEOUT_MS / 1000} s: ${this.lastLog()}`)
  }

  lastLog (): string {
    return this.tail.slice(-3).join(' | ') || 'no output'
  }

  api (): ApiClient {
    if (this.client === undefined) throw new DemoFailure(`${this.name} is not running`)
    return this.client
  }

  /** SIGTERM, then SIGKILL after a while; resolves with the exit code (null when killed). */
  async stop (): Promise<number | null> {
    const child = this.child
    if (child === undefined || this.exit === undefined) return 0
    this.client = undefined
    if (this.running) child.kill('SIGTERM')
    const timer = setTimeout(() => { if (this.running) child.kill('SIGKILL') }, STOP_TIMEOUT_MS)
    try {
      return await this.exit
    } finally {
      clearTimeout(timer)
    }
  }
}

function delay (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

async function waitFor<T> (what: string, check: () => Promise<T | undefined>, timeoutMs = WAIT_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new DemoFailure(`timed out after ${timeoutMs / 1000} s waiting for ${what}`)
    await delay(POLL_MS)
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
  })
}

/** Runs the demo; never throws: the summary says what happened. Processes and folders are always cleaned up. */
export async function runDemo (opts: DemoOptions = {}): Promise<DemoSummary> {
  const began = performance.now()
  const summary: DemoSummary = { ok: false, totalMs: 0, steps: [], receipts: [], inboxes: {}, replies: 0 }
  const root = await mkdtemp(join(tmpdir(), 'tmtp-demo-'))
  const site = new NodeProcess('site', join(root, 'site'), opts.logs)
  const alice = new NodeProcess('alice', join(root, 'alice-phone'), opts.logs)
  const bob = new NodeProcess('bob', join(root, 'bob-laptop'), opts.logs)
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
      to: ['alice', 'bob'], subject: 'Welcome to Demo Club', body: 'Hello! This message is sealed for each of your devices.'
    }), m => `id ${m.id}, ${m.recipients.length} devices`)
    await step('message 1 delivered to both (signed receipts)', async () => await waitDelivered(site.api(), first.id, [ids.alice, ids.bob], 'message 1'),
      () => 'delivered on 2 of 2 devices')

    const code = await step('stop bob (SIGTERM)', async () => await bob.stop(), c => `exit code ${String(c)}`)
    if (code !== 0) throw new DemoFailure(`bob did not stop cleanly (exit code ${String(code)})`)
    const second = await step('site sends message 2 while bob is offline', async () => await site.api().post<SendResponse>('/v1/messages', {
      to: ['alice', 'bob'], subject: 'Meeting on Friday', body: 'The meeting moves to Friday, 18:00.', urgency: 'high'
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
    }), () => 'from alice, acknowledged')

    await step('check: every message exactly once, every receipt signed', async () => {
      const problems: string[] = []
      const expected = [first.id, second.id]
      for (const [name, node] of [['alice', alice], ['bob', bob]] as const) {
        const { messages } = await node.api().get<{ messages: InboxMessage[] }>('/v1/inbox')
        summary.inboxes[name] = messages.map(m => m.id)
        for (const id of expected) {
          const copies = messages.filter(m => m.id === id).length
          if (copies !== 1) problems.push(`${name}'s inbox holds message ${id} ${copies} times`)
        }
        if (messages.length !== expected.length) problems.push(`${name}'s inbox holds ${messages.length} messages, not ${expected.length}`)
        const welcome = messages.find(m => m.id === first.id)
        if (welcome !== undefined && (welcome.subject !== 'Welcome to Demo Club' || welcome.siteName !== 'Demo Club')) problems.push(`${name} sees message 1 altered`)
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
    summary.reason = err instanceof DemoFailure ? err.message : `${(err as Error).message ?? String(err)}`
    const running = nodes.filter(n => n.running).map(n => `${n.name}: ${n.lastLog()}`)
    if (!(err instanceof DemoFailure) && running.length > 0) summary.reason += ` (last log lines: ${running.join('; ')})`
  } finally {
    await Promise.all(nodes.map(async n => await n.stop().catch(() => null)))
    if (opts.keep !== true) await rm(root, { recursive: true, force: true })
    summary.totalMs = Math.round(performance.now() - began)
  }
  return summary
}
