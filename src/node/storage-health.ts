import type { Database } from '../store/index.js'
import type { Logger } from '@libp2p/interface'

/**
 * A node's storage failure as the node reports it (its `storageFailure()` and `storage`
 * event): the first write its database could not make (a full or failing disk). From then
 * on the node refuses every write with STORAGE_FAILURE, so it acknowledges nothing it did
 * not store, until it is restarted on its data folder (src/store/database.ts says why).
 */
export interface StorageFailure {
  code: 'STORAGE_FAILURE'
  /** LevelDB's reason, e.g. "IO error: …/000005.log: No space left on device" (a file name, no content). */
  message: string
  /** When the write failed (ms since the epoch). */
  at: number
}

/**
 * Reports the database's first write failure once: one error line in the node's log and a
 * call of `report`. Returns the reported failure, if any, for the node's status.
 */
export function watchStorage (db: Database, log: Logger, report: (failure: StorageFailure) => void): () => StorageFailure | undefined {
  let failure: StorageFailure | undefined
  db.onFailure(err => {
    failure = { code: 'STORAGE_FAILURE', message: err.message, at: Date.now() }
    log.error('storage failure: every write is refused until the node restarts: %s', err.message)
    report(failure)
  })
  return () => failure
}
