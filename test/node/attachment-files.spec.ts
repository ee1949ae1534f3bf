import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { attachmentFiles as nodeFiles } from '../../src/node/attachment-files-node.js'
import { attachmentFiles as tabFiles } from '../../src/node/attachment-files-browser.js'
import type { AttachmentFiles } from '../../src/node/attachment-files.js'

/**
 * The two AttachmentFiles a member device fetches into (spec 15.6), held to one contract: the
 * Node.js one (files in the data folder) and the browser tab's (records in IndexedDB through
 * `level`, run here on Node.js, where `level` is classic-level with the same interface as the
 * browser's browser-level; test/web/tab.spec.ts runs it in Chromium). A partial file grows by
 * appends, is cut back where a fetch resumes, is hashed, becomes whole, reads back as a Blob,
 * is kept across reopening, and goes with remove.
 */

const sha256 = (bytes: Uint8Array): Uint8Array => Uint8Array.from(createHash('sha256').update(bytes).digest())
const NAME = '12D3KooWSite-00ff00ff00ff00ff00ff00ff00ff00ff-0'

function bytes (length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) % 256)
}

async function append (files: AttachmentFiles, offset: number, ...pieces: Uint8Array[]): Promise<void> {
  const part = await files.openPart(NAME, offset)
  for (const piece of pieces) await part.append(piece)
  await part.close()
}

const IMPLEMENTATIONS: Array<[string, (dir: string) => Promise<AttachmentFiles>]> = [
  ['Node.js (files)', nodeFiles],
  ['a browser tab (IndexedDB records, here on classic-level)', tabFiles]
]

for (const [label, open] of IMPLEMENTATIONS) {
  describe(`node: attachment files of ${label}`, () => {
    let dir: string
    let files: AttachmentFiles

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tmtp-files-'))
      files = await open(dir)
    })
    afterEach(async () => {
      await files.close?.()
      await rm(dir, { recursive: true, force: true })
    })

    it('grows by appends, is cut back where a fetch resumes, and is hashed as it holds', async () => {
      assert.equal(await files.partSize(NAME), 0)
      assert.equal(await files.whole(NAME), undefined)
      const [a, b, c] = [bytes(1000, 1), bytes(1000, 2), bytes(500, 3)]
      await append(files, 0, a, b, c)
      assert.equal(await files.partSize(NAME), 2500)
      // a chunk cut by a crash: the fetch resumes at 1500, inside the second piece
      const d = bytes(700, 4)
      await append(files, 1500, d)
      const expected = Uint8Array.from([...a, ...b.subarray(0, 500), ...d])
      assert.equal(await files.partSize(NAME), expected.byteLength)
      assert.deepEqual(await files.hashPart(NAME), sha256(expected))
      // at a piece's start, and at the end: nothing more dropped than lies past it
      await append(files, 1000, b.subarray(0, 500), d)
      await append(files, expected.byteLength)
      assert.deepEqual(await files.hashPart(NAME), sha256(expected))
    })

    it('keeps what was appended across reopening, then becomes whole: a Blob of its bytes, until removed', async () => {
      const [a, b] = [bytes(64 * 1024, 5), bytes(123, 6)]
      await append(files, 0, a)
      await files.close?.()
      files = await open(dir)
      assert.equal(await files.partSize(NAME), a.byteLength, 'the appended chunk survived')
      await append(files, a.byteLength, b)
      await files.complete(NAME)
      assert.equal(await files.partSize(NAME), 0, 'made whole, the partial file is no more')
      await files.close?.()
      files = await open(dir)
      const whole = await files.whole(NAME)
      assert.ok(whole !== undefined)
      const blob = await whole.blob('application/pdf')
      assert.equal(blob.type, 'application/pdf')
      assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), Uint8Array.from([...a, ...b]))
      await files.remove(NAME)
      assert.equal(await files.whole(NAME), undefined)
      assert.equal(await files.partSize(NAME), 0)
      await files.remove(NAME)
    })

    it('a partial file resumed past its end has zeros up to there, as a file truncated longer', async () => {
      await append(files, 0, bytes(10, 1))
      await append(files, 16, bytes(4, 2))
      assert.equal(await files.partSize(NAME), 20)
      assert.deepEqual(await files.hashPart(NAME), sha256(Uint8Array.from([...bytes(10, 1), 0, 0, 0, 0, 0, 0, ...bytes(4, 2)])))
    })

    it('remove takes a partial file too, and one name\'s pieces are not another\'s', async () => {
      const other = `${NAME}1`
      await append(files, 0, bytes(10, 7))
      const part = await files.openPart(other, 0)
      await part.append(bytes(20, 8))
      await part.close()
      await files.remove(NAME)
      assert.equal(await files.partSize(NAME), 0)
      assert.equal(await files.partSize(other), 20)
      assert.deepEqual(await files.hashPart(other), sha256(bytes(20, 8)))
    })

    // what only the tab's records have to get right: the Node.js files are the filesystem's
    if (open !== tabFiles) return
    describe('the tab\'s records only', () => {
      it('a whole file removed while it is read is not handed out cut short (UNKNOWN_ATTACHMENT); one whole is not fetched over', async () => {
        await append(files, 0, bytes(100, 3))
        await files.complete(NAME)
        await assert.rejects(files.openPart(NAME, 0), { code: 'INVALID_ARGUMENT' })
        const whole = await files.whole(NAME)
        await files.remove(NAME)
        await assert.rejects(whole!.blob(''), { code: 'UNKNOWN_ATTACHMENT' })
      })

      it('a write the store refuses (here closed; in a browser, a full quota) is STORAGE_FAILURE: a fetch gives up with it, not as if the site were unreachable', async () => {
        const part = await files.openPart(NAME, 0)
        await files.close?.()
        await assert.rejects(part.append(bytes(10, 4)), { code: 'STORAGE_FAILURE' })
        files = await tabFiles(dir)
      })

      it('refuses a name that is not one MemberAttachments gives (it would reach into another file\'s keys)', async () => {
        await assert.rejects(files.partSize('a!b'), { code: 'INVALID_ARGUMENT' })
        await assert.rejects(files.openPart('', 0), { code: 'INVALID_ARGUMENT' })
      })
    })
  })
}
