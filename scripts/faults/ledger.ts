import { checkInbox, type InboxCheck, type Received } from '../../src/cli/exactly-once.js'
import type { SendOutcome } from '../lib/node-process.js'

/**
 * What the campaign sent and what became of each send, by subject (subjects are unique and
 * chosen here, so a send whose answer was lost can still be recognised in the inbox):
 * accepted (send() resolved: the message must arrive exactly once), refused (send() threw:
 * it must never arrive), or in doubt (the site died before answering: it may arrive, once).
 */
export class Ledger {
  private readonly prefix: string
  private next = 0
  readonly accepted = new Map<string, string>()
  readonly refused = new Map<string, string>()
  readonly inDoubt = new Set<string>()

  constructor (prefix: string) {
    this.prefix = prefix
  }

  /** Subjects for the next `count` sends. */
  subjects (count: number): string[] {
    return Array.from({ length: count }, () => `${this.prefix}${this.next++}`)
  }

  get sent (): number {
    return this.next
  }

  record (outcomes: SendOutcome[]): void {
    for (const outcome of outcomes) {
      if ('id' in outcome) this.accepted.set(outcome.subject, outcome.id)
      else this.refused.set(outcome.subject, outcome.code)
    }
  }

  lost (subjects: string[]): void {
    for (const subject of subjects) this.inDoubt.add(subject)
  }

  /** Refusals by code, e.g. { STORAGE_FAILURE: 12 }. */
  refusals (): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const code of this.refused.values()) counts[code] = (counts[code] ?? 0) + 1
    return counts
  }

  /** Checks a member's inbox against what was sent. */
  check (inbox: Received[]): InboxCheck {
    return checkInbox(inbox, [...this.accepted].map(([subject, id]) => ({ subject, id })), this.inDoubt)
  }
}
