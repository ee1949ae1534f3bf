import assert from 'node:assert/strict'
import { backoffDelay } from '../../src/util/backoff.js'

describe('util/backoff', () => {
  const opts = { baseMs: 1000, capMs: 60_000 }

  it('grows exponentially up to the cap, with full jitter', () => {
    assert.equal(backoffDelay(0, opts, () => 0.999999), 999)
    assert.equal(backoffDelay(3, opts, () => 0.5), 4000)
    assert.equal(backoffDelay(10, opts, () => 0.5), 30_000)
    assert.equal(backoffDelay(1000, opts, () => 0.999999), 59_999)
    assert.equal(backoffDelay(5, opts, () => 0), 0)
  })

  it('spreads retries: delays of one attempt differ with the random source', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(4, opts)))
    assert.ok(delays.size > 10)
    for (const d of delays) assert.ok(d >= 0 && d < 16_000)
  })
})
