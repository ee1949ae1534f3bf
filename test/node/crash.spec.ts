import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkInbox } from '../../src/cli/exactly-once.js'
import { waitFor } from '../../src/cli/time.js'
import { NodeProcess } from '../../scripts/lib/node-process.js'

/**
 * Crash tests of delivery (spec 15.2 and 11.7: acknowledged only once stored, deduplicated by id): a site and a member device run in
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

describe('crash recovery of delivery (child processes, SIGKILL)', function () {
  this.timeout(180_000)

  let dir: string
  let children: NodeProcess[] = []

  async function start (role: 'site' | 'member'): Promise<NodeProcess> {
    const child = await NodeProcess.start(role, { dataDir: join(dir, role) })
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
    const [token] = await site.call('invite', { refs: [TO] })
    await member.call('join', { token })
    if (!offline) return { site, member }
    await member.call('stop', {})
    await member.waitForExit()
    return { site }
  }

  /** Every id once, nothing else, sequence numbers 1..n in send order; the site's outbox empty, every status delivered. */
  async function assertExactlyOnce (site: NodeProcess, member: NodeProcess, ids: string[], prefix: string): Promise<void> {
    const inbox = await member.call('inbox', {})
    assert.equal(new Set(ids).size, ids.length, 'the site returned an id twice')
    const check = checkInbox(inbox, ids.map((id, i) => ({ subject: `${prefix}${i}`, id })))
    assert.deepEqual(check, { received: ids.length, lost: [], duplicated: [], extraCopies: 0, duplicatedIds: 0, wrongId: [], unexpected: [], inDoubtDelivered: 0 })
    // the inbox lists by sequence number: 1..n, each once, in the order the messages were sent
    assert.deepEqual(inbox.map(m => m.seq), ids.map((_, i) => i + 1))
    assert.deepEqual(inbox.map(m => m.id), ids)
    assert.deepEqual(inbox.map(m => m.subject), ids.map((_, i) => `${prefix}${i}`))

    // the last acknowledgement may still be on its way when the inbox is full
    await waitFor('an empty site outbox', async () => (await site.call('stats', {})).queued === 0, 10_000, 50)
    assert.deepEqual(await site.call('states', { ids }), { delivered: ids.length })
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
    const ids = (await site.call('send', { to: [TO], perRecipient: total, concurrency: 500, prefix, ids: true })).ids ?? []
    assert.equal(ids.length, total)
    assert.equal((await site.call('stats', {})).queued, total)

    const member = await start('member')
    await member.call('waitReceived', { count: killPoint(total, 'the site'), timeoutMs: 30_000 })
    await sigkill(site)
    const atKill = await member.call('received', {})
    console.log(`      the inbox held ${atKill} when the site died`)
    assert.ok(atKill > 0 && atKill < total, `the kill fell outside delivery (inbox ${atKill} of ${total})`)

    const restarted = await start('site')
    assert.equal(restarted.peerId, site.peerId)
    await member.call('waitReceived', { count: total, timeoutMs: FILL_TIMEOUT_MS }, FILL_TIMEOUT_MS + 5_000)
    await assertExactlyOnce(restarted, member, ids, prefix)
  })

  it('the member process is SIGKILLed mid-stream and restarted: the member\'s inbox holds each exactly once', async () => {
    const total = 5_000
    const prefix = 'member-crash '
    const { site, member } = await joined(false)
    assert.ok(member !== undefined)
    // delivery runs while the messages are queued; the member may die before queuing ends
    const sending = site.call('send', { to: [TO], perRecipient: total, concurrency: 500, prefix, ids: true })
    sending.catch(() => {})
    await member.call('waitReceived', { count: killPoint(total, 'the member'), timeoutMs: 60_000 })
    await sigkill(member)
    // the site holds proof of delivery of fewer than all: the member died mid-stream
    const { states } = await site.call('stats', {})
    console.log(`      the site held ${states.delivered} acknowledgements when the member died`)
    assert.ok(states.delivered > 0 && states.delivered < total, `the kill fell outside delivery (${states.delivered} of ${total} acknowledged)`)

    const restarted = await start('member')
    assert.equal(restarted.peerId, member.peerId)
    const ids = (await sending).ids ?? []
    assert.equal(ids.length, total)
    await restarted.call('waitReceived', { count: total, timeoutMs: FILL_TIMEOUT_MS }, FILL_TIMEOUT_MS + 5_000)
    await assertExactlyOnce(site, restarted, ids, prefix)
  })

  it('1,000 messages sent while the member is offline all arrive, in order, once it starts', async () => {
    const total = 1_000
    const prefix = 'offline '
    const { site } = await joined(true)
    const ids = (await site.call('send', { to: [TO], perRecipient: total, concurrency: 100, prefix, ids: true })).ids ?? []
    assert.equal(ids.length, total)

    const member = await start('member')
    await member.call('waitReceived', { count: total, timeoutMs: 30_000 })
    await assertExactlyOnce(site, member, ids, prefix)
  })
})
