import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
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

describe('README: the limits table', () => {
  it('lists every limit of config.json with its default and range, and nothing else', async () => {
    const readme = await readFile(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8')
    const start = readme.indexOf('| limit | what it bounds | default | range |')
    assert.ok(start >= 0, 'the README has the limits table')
    const lines = readme.slice(start).split('\n').slice(2)
    const rows = lines.slice(0, lines.findIndex(line => !line.startsWith('|'))).map(line => line.split('|').slice(1, -1).map(cell => cell.trim()))
    const number = (text: string): number => Number(text.replace(/,/g, ''))
    const stated = new Map(rows.map(([name, , value, range]) => [name.replace(/`/g, ''), { value: number(value), range: range.split('–').map(number) }]))
    assert.deepEqual([...stated.keys()].sort(), Object.keys(LIMIT_RANGES).sort())
    for (const [name, range] of Object.entries(LIMIT_RANGES)) {
      assert.deepEqual(stated.get(name), { value: DEFAULTS[name as keyof typeof LIMIT_RANGES], range: [...range] }, name)
    }
  })
})
