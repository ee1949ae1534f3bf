/**
 * Requirements and how the kit reports them: one line per requirement (status, role, spec
 * section, id, what it checks, and why it failed), then one summary line.
 */

export type Role = 'site' | 'member'

export interface Requirement {
  /** Stable id, e.g. "join.used"; unique within its role. */
  id: string
  /** The spec section that states the rule, e.g. "15.1". */
  section: string
  /** What a conforming implementation does, in one sentence. */
  title: string
}

export function requirement (id: string, section: string, title: string): Requirement {
  return { id, section, title }
}

export type Status = 'PASS' | 'FAIL' | 'SKIP'

export interface Outcome {
  role: Role
  requirement: Requirement
  status: Status
  /** Why it failed or was skipped. */
  reason?: string
}

/** A requirement that does not hold; its message is the line's reason. */
export class Unmet extends Error {
  override readonly name = 'Unmet'
}

/** Throws Unmet with `why` unless `condition` holds. */
export function expect (condition: boolean, why: string): asserts condition {
  if (!condition) throw new Unmet(why)
}

/** Throws Unmet unless `actual` equals `expected` (compared as JSON), naming `what`. */
export function expectEqual<T> (actual: T, expected: T, what: string): void {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) throw new Unmet(`${what}: expected ${e}, got ${a}`)
}

/** A requirement that cannot run here (a driver without the step it needs). */
export class Skipped extends Error {
  override readonly name = 'Skipped'
}

export function formatOutcome (o: Outcome): string {
  const head = `${o.status.padEnd(4)}  ${o.role.padEnd(6)}  §${o.requirement.section.padEnd(5)}  ${o.requirement.id}: ${o.requirement.title}`
  return o.reason === undefined ? head : `${head} -- ${o.reason.replace(/\s*\n\s*/g, ' | ')}`
}

export function summarize (outcomes: Outcome[]): string {
  const count = (s: Status): number => outcomes.filter(o => o.status === s).length
  const perRole = (r: Role): number => outcomes.filter(o => o.role === r).length
  return `conformance: ${outcomes.length} requirements (site under test ${perRole('site')}, member under test ${perRole('member')}): ` +
    `${count('PASS')} passed, ${count('FAIL')} failed, ${count('SKIP')} skipped`
}

/**
 * Runs the checks of one role in order and prints each outcome as it is known. A requirement
 * whose check was never reached (a run cut short) is reported as failed, so that the count
 * of lines always equals the catalogue.
 */
export class Reporter {
  readonly outcomes: Outcome[] = []
  private readonly print: (line: string) => void

  constructor (print: (line: string) => void) {
    this.print = print
  }

  async check (role: Role, requirement: Requirement, run: () => Promise<void>): Promise<boolean> {
    let outcome: Outcome
    try {
      await run()
      outcome = { role, requirement, status: 'PASS' }
    } catch (err) {
      const status: Status = err instanceof Skipped ? 'SKIP' : 'FAIL'
      const reason = err instanceof Unmet || err instanceof Skipped ? err.message : `error: ${(err as Error).message ?? String(err)}`
      outcome = { role, requirement, status, reason }
    }
    this.record(outcome)
    return outcome.status === 'PASS'
  }

  /** Reports every requirement of `catalogue` that has no outcome yet as failed with `reason`. */
  missing (role: Role, catalogue: readonly Requirement[], reason: string): void {
    for (const requirement of catalogue) {
      if (!this.outcomes.some(o => o.role === role && o.requirement.id === requirement.id)) this.record({ role, requirement, status: 'FAIL', reason })
    }
  }

  private record (outcome: Outcome): void {
    this.outcomes.push(outcome)
    this.print(formatOutcome(outcome))
  }
}
