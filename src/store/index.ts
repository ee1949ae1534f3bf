/**
 * The LevelDB layer: the only code that knows the key layout. The site's and the device's
 * stores give typed reads, read models and named write builders; `Database` gives group
 * commit, counters and fail-stop on the first failed write.
 */
export { Database, type DatabaseOptions, type Write } from './database.js'
export * from './site-store.js'
export * from './member-store.js'
export * from './states.js'
export * from './member-id.js'
export * from './epoch-keys.js'
export * from './event-journal.js'
export * from './reply-cursor.js'
export * from './group-store.js'
export * from './blob-store.js'
export * from './attachment-store.js'
export * from './attachment-states.js'
export * from './group-id.js'
export * from './cursor.js'
export * from './broadcast-store.js'
