import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { add, Database, decodeJson, put } from '../../src/store/database.js'
import { ErrorCode, isTmtpError } from '../../src/protocol/errors.js'

describe('store/database', () => {
  let dir: string
  let db: Database | undefined

  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'tmtp-db-')) })
  afterEach(async () => {
    await db?.close().catch(() => {})
    db = undefined
    await rm(dir, { recursive: true, force: true })
  })

  for (const fsync of [false, true]) {
    it(`gathers concurrent writes and keeps them across reopening (fsync ${String(fsync)})`, async () => {
      db = await Database.open(join(dir, 'db'), { fsync })
      await Promise.all(Array.from({ length: 500 }, async (_, i) => await db!.write([put(`k:${String(i).padStart(4, '0')}`, { i })])))
      await db.write([{ key: 'k:0000' }])
      await db.close()
      db = await Database.open(join(dir, 'db'), { fsync })
      assert.equal(await db.count('k:'), 499)
      assert.equal(await db.get('k:0000'), undefined)
      const last = await db.first('k:', { reverse: true })
      assert.deepEqual(last === undefined ? undefined : decodeJson(last[1]), { i: 499 })
    })
  }

  it('keeps the last write of a key that several gathered writes touch', async () => {
    db = await Database.open(join(dir, 'db'), { fsync: false })
    const writes = Array.from({ length: 100 }, async (_, i) => await db!.write([put('counter', i), put(`v:${i}`, i)]))
    // a put then a delete of one key, and a delete then a put of another, in one gathered batch
    writes.push(db.write([put('gone', 1)]), db.write([{ key: 'gone' }]), db.write([{ key: 'back' }]), db.write([put('back', 2)]))
    await Promise.all(writes)
    assert.deepEqual(decodeJson(await db.get('counter') ?? new Uint8Array()), 99)
    assert.equal(await db.count('v:'), 100)
    assert.equal(await db.get('gone'), undefined)
    assert.deepEqual(decodeJson(await db.get('back') ?? new Uint8Array()), 2)
  })

  it('keeps counters exact however additions are gathered, across reopening', async () => {
    db = await Database.open(join(dir, 'db'), { fsync: false })
    await Promise.all(Array.from({ length: 300 }, async (_, i) => await db!.write([put(`v:${i}`, i), add('cnt:a', 1), add('cnt:b', i % 2 === 0 ? 2 : -1)])))
    assert.equal(await db.counter('cnt:a'), 300)
    assert.equal(await db.counter('cnt:b'), 150)
    assert.equal(await db.counter('cnt:none'), 0)
    await db.close()
    db = await Database.open(join(dir, 'db'), { fsync: false })
    await db.write([add('cnt:a', 5)])
    assert.equal(await db.counter('cnt:a'), 305, 'a reopened database adds to the stored value')
    assert.equal(decodeJson(await db.get('cnt:b') ?? new Uint8Array()), 150)
  })

  it('tells an unclean start from a clean one: a database killed while open, not one that was closed or is new', async () => {
    const path = join(dir, 'db')
    db = await Database.open(path, { fsync: false })
    assert.equal(db.uncleanStart, false, 'a new database')
    await db.write([put('k:1', 1)])
    await db.close()
    db = await Database.open(path, { fsync: false })
    assert.equal(db.uncleanStart, false, 'after a close')
    await db.close()
    db = undefined
    // a process that opens the database, writes, and is killed without closing it
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
      const { Database, put } = await import(${JSON.stringify(new URL('../../src/store/database.ts', import.meta.url).href)})
      const db = await Database.open(${JSON.stringify(path)}, { fsync: true })
      await db.write([put('k:2', 2)])
      process.send('written')
      setInterval(() => {}, 1000)
    `], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    await once(child, 'message')
    child.kill('SIGKILL')
    await once(child, 'exit')
    db = await Database.open(path, { fsync: false })
    assert.equal(db.uncleanStart, true, 'after a kill')
    assert.deepEqual(decodeJson(await db.get('k:2') ?? new Uint8Array()), 2)
  })

  it('fsyncs a batch asked to be synced even when the database does not fsync every batch', async () => {
    db = await Database.open(join(dir, 'db'), { fsync: false })
    await db.write([put('a', 1)])
    assert.deepEqual(db.stats, { batches: 1, synced: 0 })
    // gathered with unsynced writes: the whole batch is synced, and all of it is written
    await Promise.all([db.write([put('b', 2)], { sync: true }), db.write([put('c', 3)])])
    assert.equal(db.stats.synced, 1)
    assert.equal(await db.count(''), 3)
  })

  it('reads a page of a range in one call: after a cursor, at most limit, within the prefix', async () => {
    db = await Database.open(join(dir, 'db'), { fsync: false })
    await db.write([...Array.from({ length: 10 }, (_, i) => put(`p:${i}`, i)), put('q:0', 0), put('o:9', 9)])
    const keys = async (after: string | undefined, limit: number): Promise<string[]> => (await db!.range('p:', { after, limit })).map(([k]) => k)
    assert.deepEqual(await keys(undefined, 3), ['p:0', 'p:1', 'p:2'])
    assert.deepEqual(await keys('p:7', 5), ['p:8', 'p:9'])
    assert.deepEqual(await keys('a', 2), ['p:0', 'p:1'], 'a cursor below the prefix starts at the prefix')
    assert.deepEqual(decodeJson((await db.range('p:', { after: 'p:4', limit: 1 }))[0][1]), 5)
  })

  it('reports STORAGE_FAILURE when the folder cannot be created', async () => {
    // a path below a regular file fails for root too, where permissions would not
    const file = join(dir, 'file')
    await writeFile(file, 'x')
    await assert.rejects(Database.open(join(file, 'db'), { fsync: false }), (err: unknown) => isTmtpError(err, ErrorCode.STORAGE_FAILURE))
  })

  it('keeps a range within its prefix whatever cursor it is given', async () => {
    db = await Database.open(join(dir, 'db'), { fsync: false })
    await db.write([put('a:1', { a: 1 }), put('b:1', { b: 1 }), put('b:2', { b: 2 }), put('c:1', { c: 1 })])
    const keys = async (cursor?: string): Promise<string[]> => {
      const out: string[] = []
      for await (const [k] of db!.entries('b:', { after: cursor })) out.push(k)
      return out
    }
    assert.deepEqual(await keys(), ['b:1', 'b:2'])
    assert.deepEqual(await keys('a'), ['b:1', 'b:2'])
    assert.deepEqual(await keys('b:1'), ['b:2'])
    assert.deepEqual(await keys('zzz'), [])
    assert.equal((await db.first('b:', { after: '' }))?.[0], 'b:1')
  })

  it('rejects writes after close with STORAGE_FAILURE', async () => {
    db = await Database.open(join(dir, 'db'), { fsync: false })
    await db.close()
    await assert.rejects(db.write([put('a', { a: 1 })]), (err: unknown) => isTmtpError(err, ErrorCode.STORAGE_FAILURE))
  })
})
