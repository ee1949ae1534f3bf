// npm run conformance [-- options]: the TMTP conformance kit (spec/CONFORMANCE.md)
import '../../src/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Driver, MEMBER_STEPS, SITE_STEPS, type DriverTemplates } from './driver.js'
import { MEMBER_REQUIREMENTS, memberUnderTest } from './member-under-test.js'
import { targetOf } from './peer.js'
import { Reporter, summarize, type Requirement, type Role } from './report.js'
import { SITE_REQUIREMENTS, siteUnderTest } from './site-under-test.js'
import { launchTmtp, type LaunchedTmtp } from './tmtp-adapter.js'

const USAGE = `usage: npm run conformance -- [options]

With no --site and no --member, runs this node (tmtp) in both roles, in temporary folders.

  --site <multiaddr>         a site under test (ending in /p2p/<PeerId>)
  --site-driver <file>       its driver: JSON templates of invite, send, replies, remove-member, send-file
  --member <multiaddr>       a member device under test (ending in /p2p/<PeerId>)
  --member-driver <file>     its driver: JSON templates of join, inbox, reply, leave, block, save
  --only <site|member>       with no --site/--member: run this node in one role only
  --joins-per-minute <n>     the site's join limit per peer (spec 15.1; default 10)
  -h, --help                 this text

One line per requirement (PASS, FAIL or SKIP, role, spec section, id, what it checks, and
why it failed), then a summary line. Exit code 0 when every requirement passed, 1 otherwise,
2 on bad usage.`

interface Plan {
  role: Role
  addr: string
  driver: DriverTemplates | string
}

async function driverOf (plan: Plan): Promise<Driver> {
  const steps = plan.role === 'site' ? SITE_STEPS : MEMBER_STEPS
  return typeof plan.driver === 'string' ? await Driver.load(plan.driver, steps) : new Driver(plan.driver, steps)
}

const CATALOGUES: Record<Role, readonly Requirement[]> = {
  site: Object.values(SITE_REQUIREMENTS),
  member: Object.values(MEMBER_REQUIREMENTS)
}

async function runPlan (plan: Plan, reporter: Reporter, joinsPerMinute: number | undefined): Promise<void> {
  try {
    const driver = await driverOf(plan)
    const target = targetOf(plan.addr)
    if (plan.role === 'site') await siteUnderTest({ site: target, driver, reporter, joinsPerMinute })
    else await memberUnderTest({ member: target, driver, reporter })
  } catch (err) {
    reporter.missing(plan.role, CATALOGUES[plan.role], `the run stopped: ${(err as Error).message}`)
  }
  reporter.missing(plan.role, CATALOGUES[plan.role], 'not reached')
}

async function main (): Promise<number> {
  let values
  try {
    values = parseArgs({
      options: {
        site: { type: 'string' },
        'site-driver': { type: 'string' },
        member: { type: 'string' },
        'member-driver': { type: 'string' },
        only: { type: 'string' },
        'joins-per-minute': { type: 'string' },
        help: { type: 'boolean', short: 'h' }
      }
    }).values
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`)
    return 2
  }
  if (values.help === true) {
    process.stdout.write(USAGE + '\n')
    return 0
  }
  const usage = (message: string): number => { process.stderr.write(`${message}\n${USAGE}\n`); return 2 }
  if ((values.site === undefined) !== (values['site-driver'] === undefined)) return usage('--site and --site-driver go together')
  if ((values.member === undefined) !== (values['member-driver'] === undefined)) return usage('--member and --member-driver go together')
  if (values.only !== undefined && values.only !== 'site' && values.only !== 'member') return usage('--only takes site or member')
  const joinsPerMinute = values['joins-per-minute'] === undefined ? undefined : Number(values['joins-per-minute'])
  if (joinsPerMinute !== undefined && (!Number.isInteger(joinsPerMinute) || joinsPerMinute < 1)) return usage('--joins-per-minute takes a positive whole number')

  const reporter = new Reporter(line => { process.stdout.write(line + '\n') })
  const self = values.site === undefined && values.member === undefined
  const plans: Plan[] = []
  if (values.site !== undefined) plans.push({ role: 'site', addr: values.site, driver: values['site-driver'] as string })
  if (values.member !== undefined) plans.push({ role: 'member', addr: values.member, driver: values['member-driver'] as string })
  const roles: Role[] = self ? (values.only === undefined ? ['site', 'member'] : [values.only as Role]) : []

  const dir = self ? await mkdtemp(join(tmpdir(), 'tmtp-conformance-')) : undefined
  let stopped = false
  const launched: LaunchedTmtp[] = []
  const cleanup = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    for (const node of launched) await node.stop().catch(() => {})
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  }
  const interrupted = (): void => { cleanup().finally(() => process.exit(130)) }
  process.once('SIGINT', interrupted)
  process.once('SIGTERM', interrupted)
  /** This node in one role: started, tested, stopped. */
  const runSelf = async (role: Role): Promise<void> => {
    let node: LaunchedTmtp
    try {
      node = await launchTmtp(role, dir as string)
    } catch (err) {
      reporter.missing(role, CATALOGUES[role], `could not start tmtp: ${(err as Error).message}`)
      return
    }
    launched.push(node)
    await runPlan({ role, addr: node.addr, driver: node.driver }, reporter, joinsPerMinute)
    await node.stop()
  }
  try {
    // the roles are independent nodes: they run side by side (every line names its role)
    await Promise.all([...roles.map(runSelf), ...plans.map(async plan => { await runPlan(plan, reporter, joinsPerMinute) })])
  } finally {
    await cleanup()
  }
  process.stdout.write(summarize(reporter.outcomes) + '\n')
  return reporter.outcomes.every(o => o.status === 'PASS') ? 0 : 1
}

main().then(code => { process.exitCode = code }, err => {
  process.stderr.write(`conformance kit: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
