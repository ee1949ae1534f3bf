import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildVectors, serializeVector, VECTOR_DIR } from '../../scripts/gen-vectors.js'
import { checkFileHeader, checkVectorFile, type V } from './vector-checks.js'

/** spec/vectors/*.json on Node: each file checked both ways, and none stale. */

const files = readdirSync(VECTOR_DIR).filter(name => name.endsWith('.json')).sort()
const loaded: Record<string, V> = Object.fromEntries(files.map(name => [name, JSON.parse(readFileSync(join(VECTOR_DIR, name), 'utf8'))]))

describe('spec/vectors', () => {
  it('holds the vector files', () => {
    for (const name of ['invite.json', 'device-key.json', 'key-epoch.json', 'envelope.json', 'ack.json', 'leave.json', 'address-record.json', 'framing.json', 'negative.json', 'duplicate.json']) {
      assert.ok(files.includes(name), `spec/vectors/${name} is missing`)
    }
  })

  for (const name of files) {
    describe(name, () => {
      it('has a description and version 1', () => {
        checkFileHeader(loaded[name])
      })

      it('is checked both ways', async () => {
        await checkVectorFile(name, loaded)
      })
    })
  }

  it('equals what scripts/gen-vectors.ts builds now (npm run vectors)', async () => {
    const built = await buildVectors()
    assert.deepEqual(files, Object.keys(built).sort(), 'the set of vector files')
    for (const name of files) {
      assert.ok(readFileSync(join(VECTOR_DIR, name), 'utf8') === serializeVector(built[name]), `spec/vectors/${name} is stale: run npm run vectors`)
    }
    const again = await buildVectors()
    assert.deepEqual(again, built, 'the generator is deterministic')
  })
})
