import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { stat } from 'node:fs/promises'
import { BIN, killAll, tmtp } from '../support/cli.js'

/** `tmtp demo`: three node processes, end to end, checked exactly-once; and cleanup on Ctrl-C. */
describe('cli: tmtp demo', function () {
  this.timeout(120_000)

  afterEach(async () => { await killAll() })

  it('runs a site and two members and exits 0 with a JSON summary', async () => {
    const run = await tmtp(['demo', '--json'], { timeoutMs: 90_000 })
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`)
    const summary = JSON.parse(run.stdout)
    assert.equal(summary.ok, true)
    assert.equal(summary.reason, undefined)
    assert.ok(summary.totalMs < 60_000, `took ${summary.totalMs as number} ms`)
    assert.equal(summary.steps.length, 16)
    assert.ok(summary.steps.every((s: { ms: number }) => Number.isInteger(s.ms) && s.ms >= 0))
    assert.equal(summary.receipts.length, 4)
    for (const receipt of summary.receipts) {
      assert.equal(receipt.state, 'delivered')
      assert.equal(receipt.receipt, true)
      assert.equal(typeof receipt.latencyMs, 'number')
    }
    assert.deepEqual(summary.receipts.map((r: { member: string }) => r.member).sort(), ['alice', 'alice', 'bob', 'bob'])
    assert.equal(summary.inboxes.alice.length, 2)
    assert.deepEqual([...summary.inboxes.bob].sort(), [...summary.inboxes.alice].sort())
    assert.equal(summary.replies, 1)
    // the first step names the temporary folder: it is gone
    await assert.rejects(stat(summary.steps[0].detail), { code: 'ENOENT' })
  })

  it('cleans up its processes and folders on Ctrl-C and exits 130', async () => {
    const env = { ...process.env }
    delete env.NODE_OPTIONS
    const child = spawn(process.execPath, [BIN, 'demo'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
    const exited = new Promise<number | null>(resolve => { child.once('exit', code => { resolve(code) }) })
    // interrupt once the three node processes are up (step 2 printed)
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        stdout += s
        if (/\n 2 {2}start site/.test(stdout)) resolve()
      })
      exited.then(() => { reject(new Error(`demo ended before step 2: ${stdout} ${stderr}`)) }, reject)
    })
    const folder = /\n 1 .* (\/\S+tmtp-demo-\S+)/.exec(stdout)?.[1]
    assert.ok(folder !== undefined, stdout)
    child.kill('SIGINT')
    assert.equal(await exited, 130, stderr)
    assert.match(stderr, /interrupted \(SIGINT\)/)
    await assert.rejects(stat(folder), { code: 'ENOENT' })
    const processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    assert.ok(!processes.includes(folder), 'no node process of the demo is left')
  })
})
