import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Campaign, formatSummary, type CampaignSummary, type Fault } from '../../scripts/faults/campaign.js'
import { tmpfsUnavailable } from '../../scripts/faults/tmpfs.js'

/**
 * The shortened fault campaign of issue #7 (the full one is `npm run faults`): a site and a
 * member device in child processes, a sender that never stops, and one fault per round,
 * each kind once, in a fixed order with a fixed seed for the moments.
 */

/** Runs the faults in order and checks every invariant of the campaign. */
async function campaign (faults: Fault[], seed: number): Promise<CampaignSummary> {
  const summary = await new Campaign({
    rounds: faults.length,
    seed,
    faults,
    sequence: true,
    catchUpMs: 30_000,
    faultDelayMs: [200, 800],
    log: line => { console.log(`      ${line}`) }
  }).run()
  const printed = formatSummary(summary).map(line => `      ${line}`).join('\n')
  console.log(printed)
  assert.deepEqual(summary.violations, [], printed)
  assert.deepEqual(summary.check.lost, [], 'accepted messages missing from the inbox')
  assert.deepEqual(summary.check.duplicated, [], 'messages in the inbox more than once')
  assert.equal(summary.check.duplicatedIds, 0)
  assert.deepEqual(summary.check.wrongId, [], 'messages delivered under another id than send() returned')
  assert.deepEqual(summary.check.unexpected, [], 'refused or never sent messages in the inbox')
  assert.equal(summary.outboxLeft, 0, 'the site\'s outbox holds acknowledged messages')
  assert.equal(summary.siteStates.delivered, summary.delivered)
  assert.ok(summary.accepted > 0 && summary.delivered >= summary.accepted)
  assert.equal(summary.rounds.length, faults.length)
  assert.ok(summary.ok)
  return summary
}

describe('fault campaign, shortened (child processes, SIGKILL, cut connections, full disks)', function () {
  this.timeout(90_000)

  it('kills and restarts the site and the member, and cuts their connections, under continuous sending: every accepted message arrives exactly once', async () => {
    await campaign(['kill-site', 'cut-member', 'kill-member', 'cut-site'], 7)
  })

  describe('storage faults', () => {
    before(async function () {
      const probe = await mkdtemp(join(tmpdir(), 'tmtp-tmpfs-probe-'))
      try {
        const reason = await tmpfsUnavailable(join(probe, 'mnt'))
        if (reason !== undefined) {
          console.log(`      skipped: storage faults need a tmpfs mount (root): ${reason}`)
          this.skip()
        }
      } finally {
        await rm(probe, { recursive: true, force: true })
      }
    })

    it('fills the member\'s and then the site\'s data folder: each reports STORAGE_FAILURE, acknowledges nothing it did not store, and loses nothing after a restart', async () => {
      const summary = await campaign(['full-member', 'full-site'], 11)
      assert.deepEqual(summary.storage.map(s => s.node), ['member', 'site'])
      for (const report of summary.storage) assert.match(report.message ?? 'not reported', /^STORAGE_FAILURE: .*No space left on device/)
      assert.ok(summary.storage[1].refusedSends > 0, 'no send was refused while the site was full')
      assert.ok((summary.refused.STORAGE_FAILURE ?? 0) > 0)
    })
  })
})
