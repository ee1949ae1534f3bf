import assert from 'node:assert/strict'
import { ErrorCode } from '../../src/protocol/errors.js'
import { PeerGuard } from '../../src/node/peer-guard.js'

describe('node/peer-guard', () => {
  let now = 0
  let hungUp: string[] = []
  const guard = (refusalsPerMinute = 3, banMs = 10_000): PeerGuard => {
    const made = new PeerGuard({ refusalsPerMinute, banMs, log: () => {}, now: () => now })
    made.onBan(peer => { hungUp.push(peer) })
    return made
  }

  beforeEach(() => {
    now = 1_000_000
    hungUp = []
  })

  it('bans a peer past its refusals per minute, hangs up on it once, and lets it back after the ban', () => {
    const g = guard()
    for (let i = 0; i < 3; i++) g.refused('p', ErrorCode.NOT_MEMBER)
    assert.equal(g.isBanned('p'), false, 'at the limit: not yet')
    g.refused('p', ErrorCode.BAD_FRAME)
    assert.equal(g.isBanned('p'), true)
    assert.deepEqual(hungUp, ['p'])
    g.refused('p', ErrorCode.BAD_FRAME)
    assert.deepEqual(hungUp, ['p'], 'refusals while banned do not extend or repeat the ban')
    assert.equal(g.isBanned('q'), false, 'other peers are not affected')
    now += 10_000
    assert.equal(g.isBanned('p'), false, 'the ban ends')
    for (let i = 0; i < 3; i++) g.refused('p', ErrorCode.NOT_MEMBER)
    assert.equal(g.isBanned('p'), false, 'after a ban the count starts again')
  })

  it('counts refusals per minute, not for ever', () => {
    const g = guard()
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 3; j++) g.refused('p', ErrorCode.NOT_MEMBER)
      now += 60_000
    }
    assert.equal(g.isBanned('p'), false)
  })

  it('counts only refusals for what the peer did, not this node\'s own faults', () => {
    const g = guard(1)
    for (const code of [ErrorCode.STORAGE_FAILURE, ErrorCode.INTERNAL, ErrorCode.INVITE_USED, ErrorCode.EXPIRED, ErrorCode.UNSUPPORTED_VERSION]) {
      for (let i = 0; i < 5; i++) g.refused('p', code)
    }
    assert.equal(g.isBanned('p'), false)
    g.refused('p', ErrorCode.WINDOW_EXCEEDED)
    g.refused('p', ErrorCode.WINDOW_EXCEEDED)
    assert.equal(g.isBanned('p'), true)
  })

  it('remembers a bounded number of banned peers', () => {
    const g = guard(1, 3_600_000)
    for (let i = 0; i < 10_050; i++) {
      g.refused(`p${i}`, ErrorCode.NOT_MEMBER)
      g.refused(`p${i}`, ErrorCode.NOT_MEMBER)
    }
    assert.equal(g.size, 10_000)
    assert.equal(g.isBanned('p0'), false, 'the oldest bans are forgotten first')
    assert.equal(g.isBanned('p10049'), true)
  })
})
