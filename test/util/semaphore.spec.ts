import assert from 'node:assert/strict'
import { Semaphore } from '../../src/util/semaphore.js'

describe('util/semaphore', () => {
  it('runs at most its limit of sections at once, the others in call order, through failures', async () => {
    const semaphore = new Semaphore(2)
    let running = 0
    let most = 0
    const started: number[] = []
    const section = (i: number) => async (): Promise<number> => {
      started.push(i)
      running++
      most = Math.max(most, running)
      await new Promise(resolve => setTimeout(resolve, 5))
      running--
      if (i === 1) throw new Error('one fails')
      return i
    }
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map(async i => await semaphore.run(section(i))))
    assert.equal(most, 2)
    assert.deepEqual(started, [0, 1, 2, 3, 4])
    assert.deepEqual(results.map(r => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'])
    // every slot came back: two more run at once again
    running = 0
    most = 0
    await Promise.all([5, 6].map(async i => await semaphore.run(section(i))))
    assert.equal(most, 2)
  })
})
