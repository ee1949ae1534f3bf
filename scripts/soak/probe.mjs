/**
 * Preloaded into the bench's site child by the soak (node --import, before tsx: hence plain
 * JavaScript): every second, writes this process's memory figures to
 * $TMTP_SOAK_PROBE/<pid>.json, so that the soak can tell the V8 heap from buffers and the
 * rest of RSS without a command the bench's site role does not have. Does nothing without
 * the variable.
 */
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { getHeapStatistics } from 'node:v8'

const dir = process.env.TMTP_SOAK_PROBE
if (dir !== undefined && dir !== '') {
  const file = join(dir, `${process.pid}.json`)
  const write = () => {
    const m = process.memoryUsage()
    const h = getHeapStatistics()
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify({ at: Date.now(), ...m, mallocedMemory: h.malloced_memory, totalPhysicalSize: h.total_physical_size }))
      renameSync(`${file}.tmp`, file)
    } catch {
      // the soak removed the folder: it is over
    }
  }
  setInterval(write, 1000).unref()
  write()
}
