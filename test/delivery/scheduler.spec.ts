import assert from 'node:assert/strict'
import { logger } from '@libp2p/logger'
import { DeliveryScheduler } from '../../src/delivery/scheduler.js'
import { ErrorCode, TmtpError } from '../../src/protocol/errors.js'
import { waitFor } from '../../src/cli/time.js'
import type { SenderResult } from '../../src/delivery/sender.js'

describe('delivery/scheduler', () => {
  let scheduler: DeliveryScheduler | undefined
  afterEach(async () => { await scheduler?.stop() })

  it('retries a failing peer with backoff until its outbox is empty, one session at a time', async () => {
    const starts: number[] = []
    let work = true
    let running = 0
    let maxRunning = 0
    scheduler = new DeliveryScheduler({
      backoff: { baseMs: 20, capMs: 80 },
      log: logger('test'),
      hasWork: async () => work,
      session: async (): Promise<SenderResult> => {
        running++
        maxRunning = Math.max(maxRunning, running)
        starts.push(Date.now())
        await new Promise(resolve => setTimeout(resolve, 5))
        running--
        if (starts.length < 5) return { drained: false, error: new TmtpError(ErrorCode.TIMEOUT, 'unreachable') }
        work = false
        return { drained: true }
      }
    })
    scheduler.wake('peer')
    scheduler.wake('peer')
    await waitFor('five attempts', async () => starts.length >= 5 && scheduler?.active === 0, 5000)
    assert.equal(maxRunning, 1)
    await new Promise(resolve => setTimeout(resolve, 200))
    assert.equal(starts.length, 5, 'no session once the outbox is empty')
  })

  for (const code of [ErrorCode.TIMEOUT, ErrorCode.BLOCKED]) {
    it(`a wake (the device connected) forgets the backoff and tries at once, after ${code} too`, async () => {
      let attempts = 0
      scheduler = new DeliveryScheduler({
        backoff: { baseMs: 60_000, capMs: 60_000 },
        log: logger('test'),
        hasWork: async () => attempts < 2,
        session: async (): Promise<SenderResult> => {
          attempts++
          return attempts === 1 ? { drained: false, error: new TmtpError(code, 'x') } : { drained: true }
        }
      })
      scheduler.wake('peer')
      await waitFor('first attempt', async () => attempts === 1 && scheduler?.active === 0, 2000)
      scheduler.wake('peer')
      await waitFor('second attempt at once', async () => attempts === 2, 2000)
    })
  }
  it('after a session that delivered before it failed, retries at the base delay again (spec 15.2: the counter resets when a delivery succeeds)', async () => {
    const random = Math.random
    // the top of each backoff's range, so that the delays are the ceilings: 10, 20, 40, 80, 160, 320 ms
    Math.random = () => 0.999
    try {
      const ends: number[] = []
      const starts: number[] = []
      scheduler = new DeliveryScheduler({
        backoff: { baseMs: 10, capMs: 60_000 },
        log: logger('test'),
        hasWork: async () => starts.length < 7,
        session: async (): Promise<SenderResult> => {
          starts.push(Date.now())
          const n = starts.length
          ends.push(Date.now())
          if (n === 7) return { drained: true }
          return { drained: false, error: new TmtpError(ErrorCode.TIMEOUT, 'cut'), delivered: n === 6 }
        }
      })
      scheduler.wake('peer')
      await waitFor('seven sessions', async () => starts.length === 7, 10_000)
      assert.ok(starts[5] - ends[4] >= 140, `the fifth failure in a row waits about 160 ms (${starts[5] - ends[4]})`)
      assert.ok(starts[6] - ends[5] < 120, `after a delivery the next retry waits about 10 ms, not 320 (${starts[6] - ends[5]})`)
    } finally {
      Math.random = random
    }
  })

  it('a nudge does not cut a backoff short: an unreachable peer is not dialled once per message', async () => {
    let attempts = 0
    scheduler = new DeliveryScheduler({
      backoff: { baseMs: 60_000, capMs: 60_000 },
      log: logger('test'),
      hasWork: async () => true,
      session: async (): Promise<SenderResult> => {
        attempts++
        return { drained: false, error: new TmtpError(ErrorCode.TIMEOUT, 'unreachable') }
      }
    })
    scheduler.nudge('peer')
    await waitFor('first attempt', async () => attempts === 1 && scheduler?.active === 0, 2000)
    for (let i = 0; i < 20; i++) scheduler.nudge('peer')
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.equal(attempts, 1)
  })

  it('after BLOCKED waits the backoff cap, without jitter, whatever is queued meanwhile (spec 15.2, "Retry")', async () => {
    const starts: number[] = []
    let nudgeDuringSession = true
    scheduler = new DeliveryScheduler({
      // a base far below the cap: an ordinary backoff would retry within 10 ms
      backoff: { baseMs: 10, capMs: 400 },
      log: logger('test'),
      hasWork: async () => starts.length < 2,
      session: async (): Promise<SenderResult> => {
        starts.push(Date.now())
        // something is queued while the session runs: after any other error that means "at once"
        if (nudgeDuringSession) scheduler?.nudge('peer')
        nudgeDuringSession = false
        return starts.length === 1 ? { drained: false, error: new TmtpError(ErrorCode.BLOCKED, 'blocked') } : { drained: true }
      }
    })
    scheduler.nudge('peer')
    await waitFor('first attempt', async () => starts.length === 1 && scheduler?.active === 0, 2000)
    for (let i = 0; i < 10; i++) {
      scheduler.nudge('peer')
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    assert.equal(starts.length, 1, 'neither a nudge in the session nor those after it cut the wait short')
    await waitFor('the retry at the cap', async () => starts.length >= 2, 2000)
    const waited = starts[1] - starts[0]
    assert.ok(waited >= 390, `retried after ${waited} ms, the cap is 400 ms`)
  })
})
