import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as pause } from 'node:timers/promises'
import type { InboxCheck } from '../../src/cli/exactly-once.js'
import { waitFor, WaitTimeout } from '../../src/cli/time.js'
import { freePort } from '../bench/common.js'
import { Ledger } from './ledger.js'
import { NodeSlot } from './node-slot.js'
import { Random } from './random.js'
import { ContinuousSender } from './sender.js'
import { fill, MountError, mountTmpfs, unfill, unmount } from './tmpfs.js'

/**
 * The fault campaign of issue #7: a site and a member device in child processes, a sender
 * that never stops sending, and one fault per round at a random moment: SIGKILL and restart
 * of either node, every connection of either node cut mid-stream, or either node's data
 * folder full (a tmpfs filled to the last byte) until the node reports STORAGE_FAILURE,
 * then space freed and the node restarted. Afterwards every accepted message must be in the
 * inbox exactly once, nothing refused or never sent, the site's outbox empty and every
 * message delivered, every storage fault reported, and no node dead but by our hand.
 */

export const FAULTS = ['kill-site', 'kill-member', 'cut-site', 'cut-member', 'full-site', 'full-member'] as const
export type Fault = typeof FAULTS[number]
export const STORAGE_FAULTS: readonly Fault[] = ['full-site', 'full-member']

export interface CampaignOptions {
  rounds: number
  seed: number
  /** The faults to draw from at random, or, with `sequence`, to inject in this order (cycling). */
  faults: readonly Fault[]
  sequence?: boolean
  /** Longest wait for the inbox to catch up after a fault, and at the end. */
  catchUpMs: number
  /** Each round's fault falls this many ms after the previous round caught up (drawn uniformly). */
  faultDelayMs: [number, number]
  /** One line per event worth printing. */
  log: (line: string) => void
}

export interface RoundResult {
  round: number
  fault: Fault
  /** ms of sending between the round's start and its fault */
  at: number
  detail: string
  sent: number
  accepted: number
  inbox: number
  ms: number
}

export interface StorageReport {
  round: number
  node: 'site' | 'member'
  /** The node's storageFailure() while full, null if it never reported one. */
  message: string | null
  /** Sends refused with STORAGE_FAILURE while the site was full. */
  refusedSends: number
}

export interface CampaignSummary {
  seed: number
  rounds: RoundResult[]
  sent: number
  accepted: number
  refused: Record<string, number>
  inDoubt: number
  check: InboxCheck
  delivered: number
  /** The site's outbox and statuses at the end. */
  outboxLeft: number
  siteStates: Record<string, number>
  storage: StorageReport[]
  /** Anything else that broke an invariant: crashes, stalls, failed requests. */
  violations: string[]
  ok: boolean
  ms: number
}

const TO = 'fault-member'
/** Each node's data folder is a tmpfs this large, so that filling it is quick. */
const TMPFS_BYTES = 256 * 1024 * 1024
const STORAGE_REPORT_TIMEOUT_MS = 20_000
/** How much of each process's last output a stall report shows (with DEBUG=tmtp:* it is the node's log). */
const OUTPUT_CHARS = 6000

export class Campaign {
  private readonly opts: CampaignOptions
  private readonly random: Random
  private readonly ledger: Ledger
  private readonly mounts: string[] = []
  private dir = ''
  private site?: NodeSlot
  private member?: NodeSlot
  private sender?: ContinuousSender
  private readonly violations: string[] = []
  private readonly storage: StorageReport[] = []

  constructor (opts: CampaignOptions) {
    this.opts = opts
    this.random = new Random(opts.seed)
    this.ledger = new Ledger(`fault ${opts.seed} #`)
  }

  /** Runs every round and the final check; always cleans up (processes, mounts, folders). */
  async run (): Promise<CampaignSummary> {
    const started = Date.now()
    try {
      const { site, member } = await this.setUp()
      this.sender = new ContinuousSender(site, this.ledger, { to: TO, batch: 4, concurrency: 4, pauseMs: 40, timeoutMs: 30_000 })
      this.sender.start()
      const rounds: RoundResult[] = []
      for (let round = 1; round <= this.opts.rounds && this.violations.length === 0; round++) {
        const fault = this.opts.sequence === true ? this.opts.faults[(round - 1) % this.opts.faults.length] : this.random.pick(this.opts.faults)
        rounds.push(await this.round(round, fault, site, member))
      }
      await this.sender.stop()
      return await this.finish(rounds, site, member, started)
    } catch (err) {
      if (err instanceof MountError) throw err
      throw new Error(`${(err as Error).message}\n${this.outputs()}`, { cause: err })
    } finally {
      await this.cleanUp()
    }
  }

  /** Kills every process, unmounts every tmpfs and removes the folder; safe to call twice. */
  async cleanUp (): Promise<void> {
    await this.sender?.stop()
    await Promise.allSettled([this.site?.kill(), this.member?.kill()])
    for (const dir of this.mounts.splice(0)) await unmount(dir).catch(err => { this.opts.log(`cannot unmount ${dir}: ${(err as Error).message}`) })
    if (this.dir !== '') await rm(this.dir, { recursive: true, force: true })
  }

  private get storageFaults (): boolean {
    return this.opts.faults.some(f => STORAGE_FAULTS.includes(f))
  }

  private async setUp (): Promise<{ site: NodeSlot, member: NodeSlot }> {
    this.dir = await mkdtemp(join(tmpdir(), 'tmtp-faults-'))
    const site = this.site = new NodeSlot('site', join(this.dir, 'site'), await freePort())
    const member = this.member = new NodeSlot('member', join(this.dir, 'member'), await freePort())
    if (this.storageFaults) {
      for (const slot of [site, member]) {
        await mountTmpfs(slot.dataDir, TMPFS_BYTES)
        this.mounts.push(slot.dataDir)
      }
    }
    const [siteProcess, memberProcess] = await Promise.all([site.start(), member.start()])
    const [token] = await siteProcess.call('invite', { refs: [TO] })
    await memberProcess.call('join', { token })
    this.opts.log(`site ${siteProcess.peerId}, member ${memberProcess.peerId}, data in ${this.dir}${this.storageFaults ? ' (tmpfs)' : ''}`)
    return { site, member }
  }

  private async round (round: number, fault: Fault, site: NodeSlot, member: NodeSlot): Promise<RoundResult> {
    const started = Date.now()
    const at = this.random.int(...this.opts.faultDelayMs)
    await pause(at)
    let detail: string
    switch (fault) {
      case 'kill-site':
      case 'kill-member': {
        const slot = fault === 'kill-site' ? site : member
        const down = this.random.int(0, 500)
        await slot.sigkill()
        await pause(down)
        await slot.start()
        detail = `SIGKILL, down ${down} ms`
        break
      }
      case 'cut-site':
      case 'cut-member': {
        const cut = await (fault === 'cut-site' ? site : member).running.call('abortConnections', {})
        detail = `${cut} connection${cut === 1 ? '' : 's'} cut`
        break
      }
      case 'full-site':
        detail = await this.fullSite(round, site)
        break
      case 'full-member':
        detail = await this.fullMember(round, site, member)
        break
    }
    for (const slot of [site, member]) slot.checkAlive()
    const inbox = await this.catchUp(`round ${round} (${fault})`, site, member)
    const result = { round, fault, at, detail, sent: this.ledger.sent, accepted: this.ledger.accepted.size, inbox, ms: Date.now() - started }
    this.opts.log(formatRound(result))
    return result
  }

  /** Fills the site's folder: sends must be refused with STORAGE_FAILURE and the site say so; then frees it and restarts the site. */
  private async fullSite (round: number, site: NodeSlot): Promise<string> {
    const refusedBefore = this.ledger.refusals().STORAGE_FAILURE ?? 0
    const filled = await fill(site.dataDir)
    const report = await this.awaitStorageFailure(round, site, 'site')
    // the site keeps running and reading while its writes fail
    await site.running.call('stats', {})
    await pause(this.random.int(100, 600))
    report.refusedSends = (this.ledger.refusals().STORAGE_FAILURE ?? 0) - refusedBefore
    if (report.refusedSends === 0) this.violations.push(`round ${round}: no send was refused with STORAGE_FAILURE while the site's folder was full`)
    return await this.freeAndRestart(site, filled, report)
  }

  /**
   * Fills the member's folder: the member must report STORAGE_FAILURE and acknowledge
   * nothing it did not store (the site's delivered count never passes the member's inbox);
   * then frees it and restarts the member.
   */
  private async fullMember (round: number, site: NodeSlot, member: NodeSlot): Promise<string> {
    const filled = await fill(member.dataDir)
    const report = await this.awaitStorageFailure(round, member, 'member')
    await pause(this.random.int(100, 600))
    // in this order: acknowledgements counted first can only be fewer than messages stored later
    const { states } = await site.running.call('stats', {})
    const stored = await member.running.call('received', {})
    if (states.delivered > stored) this.violations.push(`round ${round}: the site holds ${states.delivered} acknowledgements, the member stored ${stored}`)
    return await this.freeAndRestart(member, filled, report)
  }

  private async awaitStorageFailure (round: number, slot: NodeSlot, node: 'site' | 'member'): Promise<StorageReport> {
    const report: StorageReport = { round, node, message: null, refusedSends: 0 }
    this.storage.push(report)
    try {
      const failure = await waitFor('a storage failure', async () => await slot.running.call('storageFailure', {}) ?? undefined, STORAGE_REPORT_TIMEOUT_MS, 50)
      report.message = `${failure.code}: ${failure.message}`
    } catch (err) {
      if (!(err instanceof WaitTimeout)) throw err
      this.violations.push(`round ${round}: the ${node} did not report a storage failure within ${STORAGE_REPORT_TIMEOUT_MS} ms of its folder filling up`)
    }
    return report
  }

  /** Frees the space, then restarts the node (cleanly or by SIGKILL, at random) on its folder. */
  private async freeAndRestart (slot: NodeSlot, filled: number, report: StorageReport): Promise<string> {
    await unfill(slot.dataDir)
    const clean = this.random.next() < 0.5
    if (clean) await slot.stop()
    else await slot.sigkill()
    await slot.start()
    // the reason only: LevelDB's message starts with the file's long path
    const reported = report.message === null ? 'NOT REPORTED' : `STORAGE_FAILURE (${report.message.split(': ').at(-1) ?? ''})`
    return `filled ${(filled / 2 ** 20).toFixed(0)} MiB, ${reported}; freed, ${clean ? 'stopped' : 'SIGKILL'}, restarted`
  }

  /** Waits until the inbox holds at least what was accepted so far; a stall is a violation. */
  private async catchUp (what: string, site: NodeSlot, member: NodeSlot): Promise<number> {
    const target = this.ledger.accepted.size
    let inbox = 0
    try {
      return await waitFor(what, async () => {
        for (const slot of [site, member]) slot.checkAlive()
        inbox = await member.running.call('received', {})
        return inbox >= target && inbox
      }, this.opts.catchUpMs, 100)
    } catch (err) {
      if (!(err instanceof WaitTimeout)) throw err
      this.violations.push(`${what}: the inbox held ${inbox} of ${target} accepted messages after ${this.opts.catchUpMs} ms\n${this.outputs()}`)
      return inbox
    }
  }

  /** The last output of both processes, for a failure report (with DEBUG=tmtp:* it is their log). */
  private outputs (): string {
    return [this.site, this.member].map(slot => `--- ${slot?.role ?? '?'} output ---\n${slot?.output().slice(-OUTPUT_CHARS) ?? ''}`).join('\n')
  }

  private async finish (rounds: RoundResult[], site: NodeSlot, member: NodeSlot, started: number): Promise<CampaignSummary> {
    this.violations.push(...this.sender?.anomalies ?? [])
    // the last acknowledgements may still be on their way when the inbox is complete
    await this.catchUp('the end', site, member)
    await waitFor('an empty outbox', async () => (await site.running.call('stats', {})).queued === 0, this.opts.catchUpMs, 100).catch(err => {
      // what is left is reported below
      if (!(err instanceof WaitTimeout)) throw err
    })
    // stats() counts statuses, then the outbox: an acknowledgement applied in between is in
    // neither count; with the outbox empty and nothing sent any more, a second read is exact
    const stats = await site.running.call('stats', {})
    const inbox = await member.running.call('inbox', {}, 120_000)
    const check = this.ledger.check(inbox)
    for (const slot of [site, member]) {
      slot.checkAlive()
      this.violations.push(...slot.crashes)
    }
    if (stats.queued > 0) this.violations.push(`the site's outbox still holds ${stats.queued} envelopes`)
    const { delivered, ...others } = stats.states
    if (delivered !== inbox.length) this.violations.push(`the site counts ${delivered} delivered, the inbox holds ${inbox.length}`)
    const otherStates = Object.entries(others).filter(([, n]) => n > 0)
    if (otherStates.length > 0) this.violations.push(`messages in other states than delivered: ${JSON.stringify(Object.fromEntries(otherStates))}`)
    const unreported = this.storage.filter(s => s.message === null).length
    const ok = this.violations.length === 0 && unreported === 0 && check.lost.length === 0 && check.duplicated.length === 0 &&
      check.duplicatedIds === 0 && check.wrongId.length === 0 && check.unexpected.length === 0
    return {
      seed: this.opts.seed,
      rounds,
      sent: this.ledger.sent,
      accepted: this.ledger.accepted.size,
      refused: this.ledger.refusals(),
      inDoubt: this.ledger.inDoubt.size,
      check,
      delivered: inbox.length,
      outboxLeft: stats.queued,
      siteStates: stats.states,
      storage: this.storage,
      violations: this.violations,
      ok,
      ms: Date.now() - started
    }
  }
}

export const ROUND_HEADER = `${'round'.padStart(5)}  ${'fault'.padEnd(11)}  ${'at ms'.padStart(5)}  ${'sent'.padStart(6)}  ${'accepted'.padStart(8)}  ${'inbox'.padStart(6)}  ${'ms'.padStart(6)}  what happened`

export function formatRound (r: RoundResult): string {
  return `${String(r.round).padStart(5)}  ${r.fault.padEnd(11)}  ${String(r.at).padStart(5)}  ${String(r.sent).padStart(6)}  ${String(r.accepted).padStart(8)}  ${String(r.inbox).padStart(6)}  ${String(r.ms).padStart(6)}  ${r.detail}`
}

/** The summary as printed lines. */
export function formatSummary (s: CampaignSummary): string[] {
  const reported = s.storage.filter(r => r.message !== null).length
  const lines = [
    `seed ${s.seed}: ${s.rounds.length} rounds in ${(s.ms / 1000).toFixed(1)} s (${countFaults(s.rounds)})`,
    `sent ${s.sent}: accepted ${s.accepted}, refused ${JSON.stringify(s.refused)}, in doubt (site killed before answering) ${s.inDoubt}`,
    `delivered ${s.delivered} (of them in doubt ${s.check.inDoubtDelivered}); lost ${s.check.lost.length}, duplicated ${s.check.duplicated.length + s.check.duplicatedIds}, ` +
      `under another id ${s.check.wrongId.length}, refused or never sent but delivered ${s.check.unexpected.length}`,
    `site at the end: outbox ${s.outboxLeft}, statuses ${JSON.stringify(s.siteStates)}`,
    `storage faults injected ${s.storage.length}, reported ${reported}; STORAGE_FAILURE refusals while the site was full: ${s.storage.filter(r => r.node === 'site').map(r => r.refusedSends).join(', ') || 'none'}`
  ]
  for (const v of s.violations) lines.push(`VIOLATION ${v}`)
  for (const subject of [...s.check.lost, ...s.check.duplicated, ...s.check.unexpected, ...s.check.wrongId].slice(0, 20)) lines.push(`  message ${subject}`)
  lines.push(s.ok ? 'OK: every invariant holds' : 'FAILED')
  return lines
}

function countFaults (rounds: RoundResult[]): string {
  const counts = new Map<Fault, number>()
  for (const r of rounds) counts.set(r.fault, (counts.get(r.fault) ?? 0) + 1)
  return [...counts].map(([fault, n]) => `${fault} ×${n}`).join(', ')
}
