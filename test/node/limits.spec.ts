import assert from 'node:assert/strict'
import { DEFAULTS } from '../../src/node/defaults.js'
import { LIMIT_RANGES, resolveLimits } from '../../src/node/limits.js'

describe('node/limits', () => {
  it('fills in the documented defaults', () => {
    const limits = resolveLimits({})
    for (const name of Object.keys(LIMIT_RANGES) as Array<keyof typeof LIMIT_RANGES>) assert.equal(limits[name], DEFAULTS[name], name)
    assert.equal(resolveLimits({ window: 32 }).window, 32)
  })

  it('refuses a limit out of range or of the wrong type with INVALID_ARGUMENT naming it', () => {
    const bad: Array<[keyof typeof LIMIT_RANGES, unknown]> = [
      ['window', 0], ['window', 1025], ['window', 1.5], ['joinsPerMinute', '10'], ['maxInboundStreams', -1],
      ['maxQueuePerDevice', Number.NaN], ['refusalsPerMinute', 0], ['banMs', -1], ['streamIdleMs', 999], ['streamIdleMs', 60_001]
    ]
    for (const [name, value] of bad) {
      assert.throws(() => resolveLimits({ [name]: value }), (err: Error & { code?: string }) => err.code === 'INVALID_ARGUMENT' && err.message.includes(name), `${name}: ${String(value)}`)
    }
  })
})
