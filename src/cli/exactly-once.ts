/**
 * TMTP's promise, checked from outside: every accepted message is in the member's inbox
 * exactly once, and nothing else is. Messages are told apart by subject, which the sender
 * makes unique per member, so that a send whose answer (the id) was lost can still be
 * recognised in the inbox. Used by `tmtp demo`, the crash tests, the fault campaign, the
 * benchmarks and the soak.
 */

/** A message as a member's inbox lists it. */
export interface Received {
  id: string
  subject: string
}

/** A message the site accepted for this member: its subject and, when the sender learnt it, its id. */
export interface Sent {
  subject: string
  id?: string
}

export interface InboxCheck {
  /** Inbox entries checked. */
  received: number
  /** Subjects of sent messages missing from the inbox. */
  lost: string[]
  /** Subjects in the inbox more than once. */
  duplicated: string[]
  /** Inbox entries beyond one per subject: the extra copies. */
  extraCopies: number
  /** Inbox entries beyond one per message id. */
  duplicatedIds: number
  /** Sent messages that arrived under another id than the sender was given. */
  wrongId: string[]
  /** Subjects in the inbox that were neither sent nor in doubt. */
  unexpected: string[]
  /** Messages in doubt (the sender never learnt whether the site took them) that arrived, once. */
  inDoubtDelivered: number
}

/** Checks an inbox against what was sent; `inDoubt` subjects may arrive, at most once. */
export function checkInbox (inbox: Iterable<Received>, sent: Iterable<Sent>, inDoubt: ReadonlySet<string> = new Set()): InboxCheck {
  const bySubject = new Map<string, Received[]>()
  const ids = new Set<string>()
  let received = 0
  for (const entry of inbox) {
    received++
    ids.add(entry.id)
    const same = bySubject.get(entry.subject)
    if (same === undefined) bySubject.set(entry.subject, [entry])
    else same.push(entry)
  }
  const expected = new Map<string, string | undefined>()
  for (const s of sent) expected.set(s.subject, s.id)
  const check: InboxCheck = { received, lost: [], duplicated: [], extraCopies: received - bySubject.size, duplicatedIds: received - ids.size, wrongId: [], unexpected: [], inDoubtDelivered: 0 }
  for (const [subject, id] of expected) {
    const arrived = bySubject.get(subject)
    if (arrived === undefined) check.lost.push(subject)
    else if (id !== undefined && arrived.some(entry => entry.id !== id)) check.wrongId.push(subject)
  }
  for (const [subject, entries] of bySubject) {
    if (entries.length > 1) check.duplicated.push(subject)
    if (expected.has(subject)) continue
    if (inDoubt.has(subject)) check.inDoubtDelivered++
    else check.unexpected.push(subject)
  }
  return check
}

/** True when the inbox holds every sent message once and nothing else. */
export function exactlyOnce (check: InboxCheck): boolean {
  return check.lost.length === 0 && check.duplicated.length === 0 && check.duplicatedIds === 0 && check.wrongId.length === 0 && check.unexpected.length === 0
}

/** What is wrong, one line per kind of fault (at most `examples` subjects each); empty when nothing is. */
export function describeFaults (check: InboxCheck, examples = 5): string[] {
  const list = (subjects: string[]): string => subjects.slice(0, examples).map(s => JSON.stringify(s)).join(', ') + (subjects.length > examples ? ', …' : '')
  const faults: string[] = []
  if (check.lost.length > 0) faults.push(`${check.lost.length} missing: ${list(check.lost)}`)
  if (check.duplicated.length > 0) faults.push(`${check.duplicated.length} more than once: ${list(check.duplicated)}`)
  if (check.duplicatedIds > 0) faults.push(`${check.duplicatedIds} entries repeat a message id`)
  if (check.wrongId.length > 0) faults.push(`${check.wrongId.length} under another id than sent: ${list(check.wrongId)}`)
  if (check.unexpected.length > 0) faults.push(`${check.unexpected.length} never sent: ${list(check.unexpected)}`)
  return faults
}
