import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from '../../src/cli/time.js'
import { BLOB_CHUNK_BYTES } from '../../src/protocol/index.js'
import { killAll, startNode, tmtp, tmtpJson, type StartedNode } from '../support/cli.js'

/**
 * Attachments with the `tmtp` command, every node a child process over TCP on 127.0.0.1 with
 * real LevelDB and files (issue #16): a 50 MB file sent once to three members, each saving it
 * with `tmtp save`; one member's node is killed (SIGKILL) in the middle of its transfer,
 * started again, and resumes from the chunks it kept. Once all three fetched it, the site
 * deletes it. Needs `npm run build:harness`.
 */
describe('tmtp: attachments (child processes)', function () {
  this.timeout(240_000)
  const SIZE = 50 * 1000 * 1000
  let root: string
  const started: StartedNode[] = []

  before(async () => { root = await mkdtemp(join(tmpdir(), 'tmtp-attachments-')) })
  after(async () => {
    await Promise.allSettled(started.map(async node => await node.stop()))
    await killAll()
    await rm(root, { recursive: true, force: true })
  })

  /** `tmtp init`, config.json's limits set, and `tmtp start`. */
  async function node (name: string, role: 'site' | 'member', limits: Record<string, number>): Promise<{ dir: string, running: StartedNode }> {
    const dir = join(root, name)
    const init = await tmtp(['init', '--role', role, '--name', name, '--data', dir])
    assert.equal(init.code, 0, init.stderr)
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'))
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, limits }))
    const running = await startNode(dir)
    started.push(running)
    return { dir, running }
  }

  const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

  it('sends 50 MB once to three members; one killed mid-transfer resumes; the site deletes the file once all three have it', async () => {
    const site = await node('site', 'site', { maxAttachmentBytes: 64 * 1024 * 1024, attachmentHoldMs: 1_000 })
    const members = []
    for (const ref of ['m1', 'm2', 'm3']) {
      // below autoFetchBytes nothing is fetched on its own: each member saves it when asked
      const member = await node(ref, 'member', { autoFetchBytes: 0 })
      const token = (await tmtp(['invite', '--ref', ref, '--data', site.dir])).stdout.trim()
      const joined = await tmtp(['join', token, '--data', member.dir])
      assert.equal(joined.code, 0, joined.stderr)
      members.push({ ref, ...member })
    }

    const file = randomBytes(SIZE)
    const path = join(root, 'course.bin')
    await writeFile(path, file)
    const sent = await tmtpJson(['send', '--to', 'm1,m2,m3', '--subject', 'Course', '--body', 'the files', '--attach', path, '--data', site.dir])
    const [blob] = await readdir(join(site.dir, 'blobs'))
    assert.match(blob, /^[0-9a-f]{32}$/, 'one sealed file at the site')
    assert.equal((await stat(join(site.dir, 'blobs', blob))).size, SIZE + Math.ceil(SIZE / BLOB_CHUNK_BYTES) * 16, 'sealed once: the file and a tag a chunk')
    for (const m of members) {
      await waitFor(`the message on ${m.ref}`, async () => (await tmtpJson(['inbox', '--data', m.dir])).messages.some((x: { id: string }) => x.id === sent.id))
    }

    // m3: killed while its node fetches the file
    const [m1, m2, m3] = members
    const out3 = join(root, 'out-m3')
    await mkdir(out3)
    const interrupted = tmtp(['save', sent.id, '--out', out3, '--data', m3.dir], { timeoutMs: 120_000 })
    const part = join(m3.dir, 'attachments', `${(await tmtpJson(['status', '--data', site.dir])).peerId}-${sent.id}-0.part`)
    await waitFor('m3 on its way', async () => ((await stat(part).catch(() => undefined))?.size ?? 0) > 4 * 1024 * 1024, 60_000, 5)
    m3.running.child.kill('SIGKILL')
    const cut = await interrupted
    assert.notEqual(cut.code, 0, 'the save fails with the node')
    const held = await readFile(part)
    assert.ok(held.byteLength < SIZE, `killed before the end (${held.byteLength} bytes kept)`)
    const whole = Math.floor(held.byteLength / BLOB_CHUNK_BYTES) * BLOB_CHUNK_BYTES
    assert.ok(whole > 0 && held.subarray(0, whole).equals(file.subarray(0, whole)), 'the chunks fetched before the kill are kept, and are the file\'s: the node resumes from them')

    // m1 and m2 meanwhile, then m3 again: its node starts on the chunks it kept
    const saves = [m1, m2].map(async m => {
      const dir = join(root, `out-${m.ref}`)
      await mkdir(dir)
      const saved = await tmtpJson(['save', sent.id, '0', '--out', dir, '--data', m.dir])
      return saved.saved[0].path as string
    })
    // started again, the node goes on with what it was fetching; the save joins that fetch
    started.push(await startNode(m3.dir))
    const again = await tmtpJson(['save', sent.id, 'course.bin', '--out', out3, '--data', m3.dir])
    for (const saved of [...await Promise.all(saves), again.saved[0].path as string]) {
      assert.equal(sha256(await readFile(saved)), sha256(file), `${saved} is the file`)
    }
    const read = await tmtpJson(['read', sent.id, '--data', m3.dir])
    assert.deepEqual(read.attachments.map((a: { name: string, state: string }) => [a.name, a.state]), [['course.bin', 'fetched']])

    // every device reported it fetched: the site deletes it after its hold
    await waitFor('the site deleted the file', async () => (await readdir(join(site.dir, 'blobs'))).length === 0, 30_000)
    const kept = await tmtp(['save', sent.id, '--out', join(root, 'out-m1'), '--data', m1.dir])
    assert.equal(kept.code, 0, 'a member keeps its copy after the site deleted its own')
    // until the member deletes the message
    const deleted = await tmtp(['delete', sent.id, '--data', m1.dir])
    assert.equal(deleted.code, 0, deleted.stderr)
    assert.deepEqual(await readdir(join(m1.dir, 'attachments')), [])
  })
})
