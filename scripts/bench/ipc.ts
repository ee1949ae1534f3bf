/**
 * The bench's own child processes (scripts/bench/worker.ts): one end of a floor, the
 * required-work floor, or the Mosquitto peer's clients, driven over their IPC channel. TMTP's sites and members are
 * scripts/lib/node-process.ts. Every request has a timeout; a child exits on its own when
 * the bench goes away.
 */
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { IpcChild } from '../lib/ipc-child.js'
import { builtOrThrow, spawnChild } from '../lib/node-process.js'

export type WorkerRole = 'floor' | 'work' | 'mqtt'

const WORKER = fileURLToPath(new URL('../../build/scripts/bench/worker.js', import.meta.url))
const MAX_OUTPUT = 32 * 1024

export class Worker extends IpcChild<{ pid: number }> {
  static async start (role: WorkerRole, args: string[] = []): Promise<Worker> {
    const worker = new Worker(role, spawnChild(builtOrThrow(WORKER), [role, ...args]), MAX_OUTPUT)
    keepLog(worker)
    await worker.ready(30_000)
    return worker
  }
}

/** BENCH_LOG_DIR=DIR keeps each child's whole output (e.g. with DEBUG=libp2p:connection-manager). */
export function keepLog (child: IpcChild<object>): void {
  const logDir = process.env.BENCH_LOG_DIR
  if (logDir !== undefined && logDir !== '') child.pipeOutput(createWriteStream(join(logDir, `${child.label}-${child.pid}.log`)))
}
