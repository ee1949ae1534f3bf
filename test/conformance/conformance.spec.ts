import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { SITE_REQUIREMENTS } from '../../scripts/conformance/site-under-test.js'
import { MEMBER_REQUIREMENTS } from '../../scripts/conformance/member-under-test.js'

/**
 * The conformance kit against this node in both roles, as `npm run conformance` runs it:
 * `tmtp init` and `tmtp start` in temporary folders, `tmtp` commands as the driver, real
 * libp2p on 127.0.0.1. Every requirement must pass, and there must be as many as the kit's
 * catalogues hold (a kit that silently checked nothing would print fewer lines).
 */

const RUN = fileURLToPath(new URL('../../scripts/conformance/run.ts', import.meta.url))
/** Requirements per role; a change to the catalogues changes these on purpose. */
const SITE_COUNT = 52
const MEMBER_COUNT = 51

interface Run { code: number | null, lines: string[], stderr: string }

async function conformance (): Promise<Run> {
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  const child = spawn(process.execPath, ['--import', 'tsx', RUN], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  // SIGTERM lets the kit stop its tmtp nodes and remove its folder
  const timer = setTimeout(() => { child.kill('SIGTERM') }, 170_000)
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', resolve)
    })
    return { code, lines: stdout.trim().split('\n'), stderr }
  } finally {
    clearTimeout(timer)
  }
}

describe('conformance kit against this node', function () {
  this.timeout(180_000)

  it('passes every requirement as site under test and as member under test', async () => {
    assert.equal(Object.keys(SITE_REQUIREMENTS).length, SITE_COUNT)
    assert.equal(Object.keys(MEMBER_REQUIREMENTS).length, MEMBER_COUNT)
    const run = await conformance()
    const outcomes = run.lines.filter(line => /^(PASS|FAIL|SKIP) /.test(line))
    const failed = outcomes.filter(line => !line.startsWith('PASS'))
    assert.deepEqual(failed, [], `requirements not passed (stderr: ${run.stderr.slice(-2000)})`)
    const ids = (role: string): string[] => outcomes.filter(line => line.split(/\s+/)[1] === role).map(line => line.split(/\s+/)[3].replace(/:$/, '')).sort()
    assert.deepEqual(ids('site'), Object.values(SITE_REQUIREMENTS).map(r => r.id).sort(), 'one line per site requirement')
    assert.deepEqual(ids('member'), Object.values(MEMBER_REQUIREMENTS).map(r => r.id).sort(), 'one line per member requirement')
    assert.equal(run.lines.at(-1), `conformance: ${SITE_COUNT + MEMBER_COUNT} requirements (site under test ${SITE_COUNT}, member under test ${MEMBER_COUNT}): ${SITE_COUNT + MEMBER_COUNT} passed, 0 failed, 0 skipped`)
    assert.equal(run.code, 0)
  })
})
