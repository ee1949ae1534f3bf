import { Level } from 'level'
import { fromString } from 'uint8arrays/from-string'
import { ErrorCode, TmtpError } from '../protocol/index.js'
import { nextTurn } from '../util/index.js'

/**
 * One write of a batch: a put of `value`, a delete (no value), or an addition of `add` to
 * the counter stored at `key` (a JSON number, 0 when absent), resolved when the batch is
 * written so that counters stay exact however writes are gathered. A counter key is only
 * ever written by additions.
 */
export interface Write {
  key: string
  value?: Uint8Array
  add?: number
}

export interface DatabaseOptions {
  /** fsync every batch before it counts as written: power-loss safe (spec 3, "stored durably"). */
  fsync: boolean
  /** LevelDB's memtable (`write_buffer_size`): what is written before it is flushed to a table. @default LevelDB's 4 MiB */
  memtableBytes?: number
}

interface Pending {
  writes: Write[]
  /** This batch must reach stable storage even when the database does not fsync every batch. */
  sync: boolean
  resolve: () => void
  reject: (err: Error) => void
}

/** Written by `close`, deleted by `open`: its absence at open means the last use ended otherwise. */
const CLEAN_STOP = '\x00clean-stop'

const decoder = new TextDecoder()

export function encodeJson (value: unknown): Uint8Array {
  // uint8arrays' fromString takes Node's Buffer pool: TextEncoder's encode gave each record a
  // buffer of its own, ~0.7 µs and GC work per record written (issue #14)
  return fromString(JSON.stringify(value))
}

export function decodeJson<T> (bytes: Uint8Array): T {
  return JSON.parse(decoder.decode(bytes)) as T
}

/** A write of a JSON record, or of raw bytes as they are. */
export function put (key: string, value: unknown): Write {
  return { key, value: value instanceof Uint8Array ? value : encodeJson(value) }
}

export function del (key: string): Write {
  return { key }
}

/** Adds `n` to the counter at `key` in the same atomic batch as the writes beside it. */
export function add (key: string, n: number): Write {
  return { key, add: n }
}

/**
 * A LevelDB with group commit: writes requested while a batch is being written are
 * gathered into the next batch, so many concurrent writers cost one write (and, with
 * fsync, one fsync). A failed write rejects every waiter with STORAGE_FAILURE: nothing of
 * that batch may be acknowledged.
 *
 * The first failed write also stops all later writes until the database is opened again
 * (fail-stop): LevelDB may have left a torn record in its log (a disk that filled up in the
 * middle of an append), and on the next open it drops the rest of that log block, so a
 * write that succeeded after the tear could be lost although its caller was told it was
 * stored. Reopening recovers everything written before the failure.
 */
export class Database {
  private readonly level: Level<string, Uint8Array>
  private readonly sync: boolean
  private queue: Pending[] = []
  private writing = false
  /** Why writes are refused: the first write failure, or the database was closed. */
  private refusal?: TmtpError
  private writeFailure?: TmtpError
  private readonly failureListeners = new Set<(failure: TmtpError) => void>()
  /** Counter values as last written (loaded on first use), so that additions need no read. */
  private readonly counters = new Map<string, number>()
  /**
   * True when the last use of the database did not end with `close` (a crash, a kill, a power
   * loss): without fsync, the writes of its last moments may then be lost, counters included.
   */
  readonly uncleanStart: boolean
  /** Batches written, and how many of them were fsynced (for benchmarks and tests). */
  readonly stats = { batches: 0, synced: 0 }

  private constructor (level: Level<string, Uint8Array>, options: DatabaseOptions, uncleanStart: boolean) {
    this.level = level
    this.sync = options.fsync
    this.uncleanStart = uncleanStart
  }

  static async open (path: string, options: DatabaseOptions): Promise<Database> {
    // classic-level reads an option that is present but undefined as garbage: set it only when given
    const memtable = options.memtableBytes === undefined ? {} : { writeBufferSize: options.memtableBytes }
    const level = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view', ...memtable })
    try {
      await level.open()
      // the marker is there only between a close and the next open: an empty database is new, not crashed
      const clean = await level.get(CLEAN_STOP) !== undefined || (await level.keys({ limit: 1 }).all()).length === 0
      await level.del(CLEAN_STOP, { sync: true })
      return new Database(level, options, !clean)
    } catch (err) {
      await level.close().catch(() => {})
      throw storageError(err, `cannot open the database at ${path}`)
    }
  }

  async get (key: string): Promise<Uint8Array | undefined> {
    try {
      return await this.level.get(key)
    } catch (err) {
      throw storageError(err, 'database read failed')
    }
  }

  async getJson<T> (key: string): Promise<T | undefined> {
    const bytes = await this.get(key)
    return bytes === undefined ? undefined : decodeJson<T>(bytes)
  }

  async getMany (keys: string[]): Promise<Array<Uint8Array | undefined>> {
    if (keys.length === 0) return []
    try {
      return await this.level.getMany(keys)
    } catch (err) {
      throw storageError(err, 'database read failed')
    }
  }

  /** Whether each key is stored, without reading its value. */
  async hasMany (keys: string[]): Promise<boolean[]> {
    if (keys.length === 0) return []
    try {
      return await this.level.hasMany(keys)
    } catch (err) {
      throw storageError(err, 'database read failed')
    }
  }

  /** Entries whose keys start with prefix, in key order, from after `after` if given. */
  async * entries (prefix: string, options: { after?: string, limit?: number } = {}): AsyncGenerator<[string, Uint8Array]> {
    const range = { gt: after(prefix, options.after), lt: prefix + '\xff', limit: options.limit ?? -1 }
    try {
      for await (const entry of this.level.iterator(range)) yield entry
    } catch (err) {
      throw storageError(err, 'database read failed')
    }
  }

  /** Up to `limit` entries whose keys start with prefix, after `after`, in key order (from the last with reverse): read in one call. */
  async range (prefix: string, options: { after?: string, limit: number, reverse?: boolean }): Promise<Array<[string, Uint8Array]>> {
    try {
      // a closed database throws when the iterator is made: a storage failure like any other
      const iterator = this.level.iterator({ gt: after(prefix, options.after), lt: prefix + '\xff', limit: options.limit, reverse: options.reverse ?? false })
      return await iterator.all()
    } catch (err) {
      throw storageError(err, 'database read failed')
    }
  }

  /** The first entry whose key starts with prefix (after `after`; the last one with reverse), if any. */
  async first (prefix: string, options: { after?: string, reverse?: boolean } = {}): Promise<[string, Uint8Array] | undefined> {
    return (await this.range(prefix, { ...options, limit: 1 }))[0]
  }

  /** The last entry whose key starts with prefix and sorts at or before `atOrBefore`. */
  async last (prefix: string, atOrBefore: string): Promise<[string, Uint8Array] | undefined> {
    try {
      return (await this.level.iterator({ gte: prefix, lte: atOrBefore, limit: 1, reverse: true }).all())[0]
    } catch (err) {
      throw storageError(err, 'database read failed')
    }
  }

  /** The number of keys that start with prefix (a scan of keys only). */
  async count (prefix: string): Promise<number> {
    let n = 0
    try {
      // eslint-disable-next-line @typescript-eslint/no-unused-vars
      for await (const _ of this.level.keys({ gt: prefix, lt: prefix + '\xff' })) n++
    } catch (err) {
      throw storageError(err, 'database read failed')
    }
    return n
  }

  /** The value of the counter at `key` (see `add`), with every committed addition. */
  async counter (key: string): Promise<number> {
    await this.loadCounters([key])
    return this.counters.get(key) ?? 0
  }

  private async loadCounters (keys: string[]): Promise<void> {
    const missing = keys.filter(k => !this.counters.has(k))
    const values = await this.getMany(missing)
    missing.forEach((k, i) => {
      const raw = values[i]
      this.counters.set(k, raw === undefined ? 0 : decodeJson<number>(raw))
    })
  }

  /** The first write that failed, if one did: from then on every write is refused. */
  get failure (): TmtpError | undefined {
    return this.writeFailure
  }

  /** Calls listener once, when the first write fails. */
  onFailure (listener: (failure: TmtpError) => void): void {
    this.failureListeners.add(listener)
  }

  /**
   * Writes atomically, gathered with concurrent writes into one LevelDB batch. With `sync`, the
   * batch is fsynced even when the database does not fsync every batch (a counter that must
   * never go back).
   */
  async write (writes: Write[], options: { sync?: boolean } = {}): Promise<void> {
    if (writes.length === 0) return
    if (this.refusal !== undefined) throw this.refusal
    await new Promise<void>((resolve, reject) => {
      this.queue.push({ writes, sync: options.sync ?? false, resolve, reject })
      if (!this.writing) this.flush().catch(() => {})
    })
  }

  private async flush (): Promise<void> {
    this.writing = true
    while (this.queue.length > 0) {
      const batch = this.queue
      this.queue = []
      if (this.refusal !== undefined) {
        for (const p of batch) p.reject(this.refusal)
        continue
      }
      try {
        const { ops, additions } = operations(batch)
        await this.loadCounters([...additions.keys()])
        const totals = new Map([...additions].map(([k, n]) => [k, (this.counters.get(k) ?? 0) + n]))
        for (const [k, total] of totals) ops.push({ type: 'put', key: k, value: encodeJson(total) })
        const sync = this.sync || batch.some(p => p.sync)
        // a chained batch: one native call per operation, where the array form clones each
        // operation in JS first (abstract-level's options and encodings): several µs a message
        const chained = this.level.batch()
        for (const op of ops) {
          if (op.type === 'put') chained.put(op.key, op.value)
          else chained.del(op.key)
        }
        await chained.write({ sync })
        this.stats.batches++
        if (sync) this.stats.synced++
        for (const [k, total] of totals) this.counters.set(k, total)
        for (const p of batch) p.resolve()
      } catch (err) {
        const failure = storageError(err, 'database write failed')
        this.fail(failure)
        for (const p of batch) p.reject(failure)
      }
    }
    this.writing = false
  }

  private fail (failure: TmtpError): void {
    if (this.writeFailure !== undefined) return
    this.writeFailure = failure
    this.refusal ??= new TmtpError(ErrorCode.STORAGE_FAILURE, `writes are refused until the database is reopened: ${failure.message}`, { cause: failure })
    for (const listener of this.failureListeners) {
      try {
        listener(failure)
      } catch {
        // a listener's failure must not stop the writer or the other listeners
      }
    }
  }

  async close (): Promise<void> {
    while (this.writing || this.queue.length > 0) await nextTurn()
    this.refusal = new TmtpError(ErrorCode.STORAGE_FAILURE, 'database is closed')
    // a failed database is not cleanly stopped: its last writes may be missing
    if (this.writeFailure === undefined) await this.level.put(CLEAN_STOP, new Uint8Array(0), { sync: true }).catch(() => {})
    await this.level.close()
  }
}

type Operation = { type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }

/**
 * The LevelDB operations of a gathered batch, each key once with its last write (the batch
 * is atomic, so earlier writes of the same key, a device's sequence counter written by every
 * send, would only cost LevelDB work), and the sum of the additions to each counter.
 */
function operations (batch: Pending[]): { ops: Operation[], additions: Map<string, number> } {
  const byKey = new Map<string, Operation>()
  const additions = new Map<string, number>()
  for (const p of batch) {
    for (const w of p.writes) {
      if (w.add !== undefined) additions.set(w.key, (additions.get(w.key) ?? 0) + w.add)
      else byKey.set(w.key, w.value === undefined ? { type: 'del', key: w.key } : { type: 'put', key: w.key, value: w.value })
    }
  }
  return { ops: [...byKey.values()], additions }
}

/** A cursor from outside never moves a range below its prefix (into other records). */
function after (prefix: string, cursor: string | undefined): string {
  return cursor !== undefined && cursor > prefix ? cursor : prefix
}

function storageError (err: unknown, message: string): TmtpError {
  const detail = err instanceof Error ? `: ${err.message}` : ''
  return new TmtpError(ErrorCode.STORAGE_FAILURE, message + detail, { cause: err })
}

/** A fixed-width decimal so that keys sort numerically. */
export function pad (n: number, width = 16): string {
  return n.toString().padStart(width, '0')
}
