import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startNodeProcess, type NodeProcess, type NodeProcessOptions } from '../support/node-process.js'

/**
 * Crash tests of delivery (spec: "Delivery guarantees"): a site and a member device run in
 * child processes; one of them is SIGKILLed in the middle of a delivery and restarted on
 * its data folder; the inbox must then hold every message exactly once.
 */

const TO = 'alice'
/** How long the inbox may take to fill after a restart (retries included). */
const FILL_TIMEOUT_MS = 90_000

/** A fraction in [0.1, 0.7) of the messages after which to kill; TMTP_CRASH_AT=0.42 replays a run. */
function killPoint (total: number, what: string): number {
  const fraction = process.env.TMTP_CRASH_AT !== undefined ? Number(process.env.TMTP_CRASH_AT) : 0.1 + Math.random() * 0.6
  const at = Math.floor(total * fraction)
  console.log(`      ${what} SIGKILLed once the inbox holds ${at} of ${total} (TMTP_CRASH_AT=${fraction.toFixed(3)})`)
  return at
}

async function until<T> (what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

describe('crash recovery of delivery (child processes, SIGKILL)', function () {
  this.timeout(180_000)

  let dir: string
  let children: NodeProcess[] = []

  async function start (role: NodeProcessOptions['role']): Promise<NodeProcess> {
    const child = await startNodeProcess({ role, dataDir: join(dir, role) })
    children.push(child)
    return child
  }

  async function sigkill (child: NodeProcess): Promise<void> {
    child.kill('SIGKILL')
    const exit = await child.waitForExit()
    assert.equal(exit.signal, 'SIGKILL')
  }

  /** A site and a member that joined it; the member process is stopped again when `offline`. */
  async function joined (offline: boolean): Promise<{ site: NodeProcess, member?: NodeProcess }> {
    // both settle before a failure is thrown, so that afterEach knows every child started
    const started = await Promise.allSettled([start('site'), start('member')])
    for (const result of started) if (result.status === 'rejected') throw result.reason
    const [site, member] = started.map(result => (result as PromiseFulfilledResult<NodeProcess>).value)
    const { token } = await site.request('createInvite', { ref: TO })
    await member.request('join', { token })
    if (!offline) return { site, member }
    await member.request('stop', {})
    await member.waitForExit()
    return { site }
  }

  /** Every id once, nothing else, sequence numbers 1..n in send order; the site's outbox empty, every status delivered. */
  async function assertExactlyOnce (site: NodeProcess, member: NodeProcess, ids: string[], prefix: string): Promise<void> {
    const inbox = await member.request('inbox', {})
    const counts = new Map<string, number>()
    for (const m of inbox) counts.set(m.id, (counts.get(m.id) ?? 0) + 1)
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([id]) => id)
    assert.deepEqual(duplicated, [], 'ids in the inbox more than once')
    const sent = new Set(ids)
    assert.equal(sent.size, ids.length, 'the site returned an id twice')
    assert.deepEqual(ids.filter(id => !counts.has(id)), [], 'sent ids missing from the inbox')
    assert.deepEqual(inbox.filter(m => !sent.has(m.id)).map(m => m.id), [], 'ids in the inbox that were never sent')
    assert.equal(inbox.length, ids.length)
    // the inbox lists by sequence number: 1..n, each once, in the order the messages were sent
    assert.deepEqual(inbox.map(m => m.seq), ids.map((_, i) => i + 1))
    assert.deepEqual(inbox.map(m => m.id), ids)
    assert.deepEqual(inbox.map(m => m.subject), ids.map((_, i) => `${prefix}${i}`))

    // the last acknowledgement may still be on its way when the inbox is full
    await until('an empty site outbox', async () => {
      const stats = await site.request('stats', {})
      return stats.queued === 0 ? stats : undefined
    }, 10_000)
    assert.deepEqual(await site.request('states', { ids }), { delivered: ids.length })
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tmtp-crash-'))
  })

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      for (const child of children) console.log(`--- ${child.role} process ${child.pid} output ---\n${child.output()}`)
    }
    for (const child of children) child.kill('SIGKILL')
    await Promise.allSettled(children.map(async child => await child.waitForExit()))
    children = []
    await rm(dir, { recursive: true, force: true })
  })

  it('the site process is SIGKILLed while delivering 5,000 messages and restarted: the member\'s inbox holds each exactly once', async () => {
    const total = 5_000
    const prefix = 'site-crash '
    const { site } = await joined(true)
    // everything is queued (every send() resolved) while the member is offline: the kill
    // then falls in the middle of delivery, never of queuing
    const { ids } = await site.request('send', { to: TO, count: total, concurrency: 500, prefix })
    assert.equal(ids.length, total)
    assert.equal((await site.request('stats', {})).queued, total)

    const member = await start('member')
    await member.request('waitInbox', { count: killPoint(total, 'the site'), timeoutMs: 30_000 })
    await sigkill(site)
    const atKill = await member.request('inboxCount', {})
    console.log(`      the inbox held ${atKill} when the site died`)
    assert.ok(atKill > 0 && atKill < total, `the kill fell outside delivery (inbox ${atKill} of ${total})`)

    const restarted = await start('site')
    assert.equal(restarted.peerId, site.peerId)
    await member.request('waitInbox', { count: total, timeoutMs: FILL_TIMEOUT_MS }, FILL_TIMEOUT_MS + 5_000)
    await assertExactlyOnce(restarted, member, ids, prefix)
  })

  it('the member process is SIGKILLed mid-stream and restarted: the member\'s inbox holds each exactly once', async () => {
    const total = 5_000
    const prefix = 'member-crash '
    const { site, member } = await joined(false)
    assert.ok(member !== undefined)
    // delivery runs while the messages are queued; the member may die before queuing ends
    const sending = site.request('send', { to: TO, count: total, concurrency: 500, prefix })
    sending.catch(() => {})
    await member.request('waitInbox', { count: killPoint(total, 'the member'), timeoutMs: 60_000 })
    await sigkill(member)
    // the site holds proof of delivery of fewer than all: the member died mid-stream
    const { states } = await site.request('stats', {})
    console.log(`      the site held ${states.delivered} acknowledgements when the member died`)
    assert.ok(states.delivered > 0 && states.delivered < total, `the kill fell outside delivery (${states.delivered} of ${total} acknowledged)`)

    const restarted = await start('member')
    assert.equal(restarted.peerId, member.peerId)
    const { ids } = await sending
    assert.equal(ids.length, total)
    await restarted.request('waitInbox', { count: total, timeoutMs: FILL_TIMEOUT_MS }, FILL_TIMEOUT_MS + 5_000)
    await assertExactlyOnce(site, restarted, ids, prefix)
  })

  it('1,000 messages sent while the member is offline all arrive, in order, once it starts', async () => {
    const total = 1_000
    const prefix = 'offline '
    const { site } = await joined(true)
    const { ids } = await site.request('send', { to: TO, count: total, concurrency: 100, prefix })
    assert.equal(ids.length, total)

    const member = await start('member')
    await member.request('waitInbox', { count: total, timeoutMs: 30_000 })
    await assertExactlyOnce(site, member, ids, prefix)
  })
})
