import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { concurrently, waitFor } from '../../src/cli/time.js'
import { NodeProcess } from '../../scripts/lib/node-process.js'

/**
 * A broadcast's fan-out across a crash: a site and member devices in child processes (many
 * member nodes to a process), the site SIGKILLed while it seals a broadcast in the background,
 * restarted on its data folder: the fan-out resumes from its durable cursor and every device
 * holds the message exactly once.
 */

const PROCESSES = 3
const PER_PROCESS = 100
const DEVICES = PROCESSES * PER_PROCESS
/** Small batches, so that the fan-out takes many writes and the kill falls between two. */
const SITE = { dht: false, directMaxDevices: 10, fanoutBatch: 4 }
const FILL_TIMEOUT_MS = 120_000

describe('broadcast fan-out across a crash (child processes, SIGKILL)', function () {
  this.timeout(300_000)

  let dir: string
  let children: NodeProcess[] = []

  async function start (role: 'site' | 'members', name: string, opts: object = {}): Promise<NodeProcess> {
    const child = await NodeProcess.start(role, { dataDir: join(dir, name), ...opts })
    children.push(child)
    return child
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tmtp-broadcast-crash-'))
  })

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      for (const child of children) console.log(`--- ${child.role} process ${child.pid} output ---\n${child.output().slice(-4000)}`)
    }
    for (const child of children) child.kill('SIGKILL')
    await Promise.allSettled(children.map(async child => await child.waitForExit()))
    children = []
    await rm(dir, { recursive: true, force: true })
  })

  it(`answers a send to ${DEVICES} devices before its fan-out ends; SIGKILLed in the middle of the fan-out and restarted, the site delivers to each device exactly once`, async () => {
    const site = await start('site', 'site', SITE)
    const workers = await Promise.all(Array.from({ length: PROCESSES }, async (_, p) => await start('members', `members-${p}`, { dht: false })))
    const refsOf = workers.map((_, p) => Array.from({ length: PER_PROCESS }, (_, i) => `m${p}-${i}`))
    await Promise.all(workers.map(async (w, p) => {
      await w.call('add', { refs: refsOf[p] }, 120_000)
      const tokens = await site.call('invite', { refs: refsOf[p] })
      await concurrently(PER_PROCESS, 8, async i => await w.call('join', { ref: refsOf[p][i], token: tokens[i] }, 60_000))
    }))

    const subject = 'to everyone'
    const sent = await site.call('broadcast', { subject, bodyBytes: 200 })
    assert.deepEqual({ devices: sent.devices, fanout: sent.fanout }, { devices: DEVICES, fanout: true })
    const atAnswer = await site.call('counts', { id: sent.id })
    console.log(`      accepted in ${(sent.acceptedAt - sent.startAt).toFixed(1)} ms; then ${JSON.stringify(atAnswer.counts)}`)
    assert.ok(atAnswer.counts.pending > 0, 'the send answered before the fan-out ended')

    // the kill falls once some copies are sealed and some are not
    const atKill = await waitFor('part of the fan-out', async () => {
      const { counts } = await site.call('counts', { id: sent.id })
      return counts.pending < DEVICES - 8 && counts
    }, 60_000, 2)
    site.kill('SIGKILL')
    assert.equal((await site.waitForExit()).signal, 'SIGKILL')
    console.log(`      SIGKILLed with ${JSON.stringify(atKill)}`)
    assert.ok(atKill.pending > 0, `the kill fell after the fan-out (${JSON.stringify(atKill)})`)

    const restarted = await start('site', 'site', SITE)
    assert.equal(restarted.peerId, site.peerId)
    await Promise.all(workers.map(async w => await w.call('waitReceived', { count: PER_PROCESS, timeoutMs: FILL_TIMEOUT_MS }, FILL_TIMEOUT_MS + 5_000)))
    for (const [p, w] of workers.entries()) {
      const check = await w.call('check', { expected: Object.fromEntries(refsOf[p].map(ref => [ref, [subject]])) })
      const { members, received, lost, duplicated, unexpected, extraEvents } = check
      assert.deepEqual({ members, received, lost, duplicated, unexpected, extraEvents }, { members: PER_PROCESS, received: PER_PROCESS, lost: 0, duplicated: 0, unexpected: 0, extraEvents: 0 }, `lost: ${check.lostSamples.join(', ')}`)
    }
    await waitFor('every copy delivered at the site', async () => (await restarted.call('counts', { id: sent.id })).counts.delivered === DEVICES, 30_000, 50)
    assert.deepEqual((await restarted.call('counts', { id: sent.id })).counts, { pending: 0, queued: 0, delivered: DEVICES, expired: 0, rejected: 0, dropped: 0, replaced: 0 })
  })
})
