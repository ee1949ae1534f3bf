import assert from 'node:assert/strict'
import { DeviceStates, type DeviceState } from '../../src/delivery/device-states.js'

function state (seq: number): DeviceState {
  return { member: 'm', peerId: new Uint8Array(0), seq, queued: 0, x25519: '' }
}

describe('delivery/device-states', () => {
  it('keeps at most its capacity, the least recently used going first', () => {
    const states = new DeviceStates(2)
    states.set('a', state(1))
    states.set('b', state(2))
    assert.equal(states.get('a')?.seq, 1, 'a used: b is now the least recent')
    states.set('c', state(3))
    assert.equal(states.size, 2)
    assert.equal(states.peek('b'), undefined)
    assert.equal(states.peek('a')?.seq, 1)
    assert.equal(states.peek('c')?.seq, 3)
  })

  it('never evicts a state whose write is in flight: it holds more meanwhile, and forgets one whose write failed', () => {
    const states = new DeviceStates(1)
    states.set('a', state(1))
    states.pin(['a'])
    states.set('b', state(2))
    assert.equal(states.size, 2, 'a is pinned: both stay')
    states.pin(['b'])
    states.set('c', state(3))
    assert.deepEqual([states.peek('a')?.seq, states.peek('b')?.seq, states.peek('c')?.seq], [1, 2, 3])
    states.unpin(['a'], false)
    states.unpin(['b'], true)
    assert.equal(states.peek('b'), undefined, 'its write failed: the store is the truth')
    states.set('d', state(4))
    assert.equal(states.size, 1)
    assert.equal(states.peek('d')?.seq, 4)
  })
})
