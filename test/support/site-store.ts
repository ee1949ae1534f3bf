import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database } from '../../src/store/database.js'
import { SiteStore } from '../../src/store/site-store.js'

/** A site store on a real LevelDB in a fresh temporary folder; `close` removes it. */
export async function openTempSiteStore (): Promise<{ store: SiteStore, db: Database, reopen: () => Promise<SiteStore>, close: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tmtp-site-store-'))
  const path = join(dir, 'db')
  let db = await Database.open(path, { fsync: false })
  const handle = {
    store: await SiteStore.open(db),
    db,
    reopen: async () => {
      await db.close()
      db = await Database.open(path, { fsync: false })
      handle.db = db
      handle.store = await SiteStore.open(db)
      return handle.store
    },
    close: async () => {
      await db.close().catch(() => {})
      await rm(dir, { recursive: true, force: true })
    }
  }
  return handle
}
