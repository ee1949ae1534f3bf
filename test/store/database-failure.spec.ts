import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fill, mountTmpfs, MountError, unfill, unmount } from '../../scripts/faults/tmpfs.js'
import { Database, put } from '../../src/store/database.js'
import { ErrorCode, isTmtpError, type TmtpError } from '../../src/protocol/errors.js'

/**
 * A real write failure: the database lives on a small tmpfs that is filled up, so LevelDB
 * gets ENOSPC from the kernel. Mounting needs root; without it the test says so and skips.
 */
describe('store/database on a full disk', () => {
  let dir: string
  let mnt: string
  let mounted = false
  let db: Database | undefined

  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'tmtp-db-full-'))
    mnt = join(dir, 'mnt')
    try {
      await mountTmpfs(mnt, 1024 * 1024)
      mounted = true
    } catch (err) {
      if (!(err instanceof MountError && err.code === 'MOUNT_NOT_PERMITTED')) throw err
      console.log(`      skipped: a tmpfs mount needs root: ${err.message}`)
      this.skip()
    }
  })

  afterEach(async () => {
    await db?.close().catch(() => {})
    db = undefined
    if (mounted) await unmount(mnt)
    mounted = false
    await rm(dir, { recursive: true, force: true })
  })

  it('refuses every write after the first failure, reports it once, and keeps every write that succeeded across a reopen', async () => {
    db = await Database.open(join(mnt, 'db'), { fsync: false })
    const failures: TmtpError[] = []
    db.onFailure(failure => failures.push(failure))
    await fill(mnt)
    const value = new Uint8Array(512).fill(1)
    const written: string[] = []
    let failure: unknown
    for (let i = 0; i < 100_000 && failure === undefined; i++) {
      const key = `k:${String(i).padStart(6, '0')}`
      await db.write([put(key, value)]).then(() => written.push(key), (err: unknown) => { failure = err })
    }
    assert.ok(isTmtpError(failure, ErrorCode.STORAGE_FAILURE), `the full disk was not reported: ${String(failure)}`)
    assert.match((failure as Error).message, /No space left on device/)
    assert.equal(failures.length, 1)
    assert.equal(db.failure, failures[0])

    // with space again LevelDB itself would take this write, and lose it at the next open
    // (behind the torn record of the failed one): the database refuses it instead
    await unfill(mnt)
    await assert.rejects(db.write([put('after', value)]), (err: unknown) => isTmtpError(err, ErrorCode.STORAGE_FAILURE) && /refused until the database is reopened/.test((err as Error).message))
    assert.equal(failures.length, 1, 'a failure is reported once')

    await db.close()
    db = await Database.open(join(mnt, 'db'), { fsync: false })
    assert.equal(db.failure, undefined)
    assert.equal(await db.count('k:'), written.length)
    await db.write([put('after', value)])
    assert.ok(await db.get('after') !== undefined)
  })
})

describe('store/database, closed', () => {
  it('answers every read with STORAGE_FAILURE, the first entry of a range too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tmtp-db-closed-'))
    try {
      const db = await Database.open(join(dir, 'db'), { fsync: false })
      await db.write([put('a:1', { a: 1 })])
      await db.close()
      const storageFailure = (err: unknown): boolean => isTmtpError(err, ErrorCode.STORAGE_FAILURE)
      await assert.rejects(db.first('a:'), storageFailure)
      await assert.rejects(db.get('a:1'), storageFailure)
      await assert.rejects(db.count('a:'), storageFailure)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
