import assert from 'node:assert/strict'
import { DhtPutLimiter } from '../../src/discovery/put-limiter.js'
import { isTmtpError } from '../../src/protocol/errors.js'

describe('discovery/put-limiter: PUT_VALUE per peer and per address', () => {
  it('refuses a peer past its limit a minute, and an address past its own for all its peers together (RATE_LIMITED)', () => {
    let now = 0
    const limiter = new DhtPutLimiter({ putsPerMinute: 2, putsPerMinutePerIp: 3 }, () => now)
    const limited = (err: unknown): boolean => isTmtpError(err) && err.code === 'RATE_LIMITED'
    limiter.admit({ peer: 'a', address: '10.0.0.1' })
    limiter.admit({ peer: 'a', address: '10.0.0.1' })
    assert.throws(() => { limiter.admit({ peer: 'a', address: '10.0.0.1' }) }, limited)
    // another peer from the same address: the address's limit (3, counting the refused one) is reached
    assert.throws(() => { limiter.admit({ peer: 'b', address: '10.0.0.1' }) }, limited)
    // the same peer from elsewhere is still over its own limit; another peer from elsewhere is not
    assert.throws(() => { limiter.admit({ peer: 'a', address: '10.0.0.2' }) }, limited)
    limiter.admit({ peer: 'c', address: '10.0.0.2' })
    // a minute later both start again
    now += 60_000
    limiter.admit({ peer: 'a', address: '10.0.0.1' })
    limiter.admit({ peer: 'b', address: '10.0.0.1' })
  })
})
