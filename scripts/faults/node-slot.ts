import { NodeProcess } from '../lib/node-process.js'

const STOP_TIMEOUT_MS = 10_000

/**
 * One node of the campaign (the site or the member) across its restarts: always the same
 * data folder and the same listen port, so that the other node finds it again at once. It
 * tells an exit the campaign caused (SIGKILL, stop) from one it did not (a crash).
 */
export class NodeSlot {
  readonly role: 'site' | 'member'
  readonly dataDir: string
  private readonly listen: string
  private current?: NodeProcess
  /** Processes the campaign killed or stopped: their exits are no crash. */
  private readonly ended = new WeakSet<NodeProcess>()
  /** Exits the campaign did not cause, with the process's last output. */
  readonly crashes: string[] = []
  restarts = 0

  constructor (role: 'site' | 'member', dataDir: string, port: number) {
    this.role = role
    this.dataDir = dataDir
    this.listen = `/ip4/127.0.0.1/tcp/${port}`
  }

  /** The running process; undefined while the node is going down, down or restarting. */
  get process (): NodeProcess | undefined {
    const process = this.current
    return process !== undefined && !process.exited && !this.ended.has(process) ? process : undefined
  }

  /** The running process; throws if the node is down. */
  get running (): NodeProcess {
    const process = this.process
    if (process === undefined) throw new Error(`the ${this.role} is not running`)
    return process
  }

  async start (): Promise<NodeProcess> {
    this.current = await NodeProcess.start(this.role, { dataDir: this.dataDir, listen: this.listen })
    return this.current
  }

  /** SIGKILLs the process; throws if it ended otherwise (it crashed first). */
  async sigkill (): Promise<void> {
    const process = this.takeDown()
    process.kill('SIGKILL')
    const exit = await process.waitForExit()
    if (exit.signal !== 'SIGKILL') this.recordCrash(process, `exited with ${exit.signal ?? exit.code} before the SIGKILL`)
  }

  /** Asks the node to stop cleanly; SIGKILL if it does not within 10 s. */
  async stop (): Promise<void> {
    const process = this.takeDown()
    try {
      await process.call('stop', {}, STOP_TIMEOUT_MS)
      const exit = await process.waitForExit(STOP_TIMEOUT_MS)
      if (exit.code !== 0) this.recordCrash(process, `exited with ${exit.signal ?? exit.code} when stopping`)
    } catch (err) {
      this.recordCrash(process, `did not stop cleanly: ${(err as Error).message}`)
      process.kill('SIGKILL')
      await process.waitForExit()
    }
  }

  /** Records a crash if the process exited without the campaign's doing. */
  checkAlive (): void {
    const process = this.current
    if (process !== undefined && process.exited && !this.ended.has(process)) {
      this.ended.add(process)
      this.recordCrash(process, 'exited on its own')
    }
  }

  /** The last output of the current (or last) process. */
  output (): string {
    return this.current?.output() ?? ''
  }

  /** Kills whatever runs, for cleanup. */
  async kill (): Promise<void> {
    const process = this.current
    if (process === undefined) return
    this.ended.add(process)
    process.kill('SIGKILL')
    await process.waitForExit().catch(() => {})
  }

  private takeDown (): NodeProcess {
    this.checkAlive()
    const process = this.running
    this.ended.add(process)
    this.restarts++
    return process
  }

  private recordCrash (process: NodeProcess, what: string): void {
    this.crashes.push(`${this.role} process ${process.pid} ${what}:\n${process.output().slice(-2000)}`)
  }
}
