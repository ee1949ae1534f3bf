import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { fromString as uint8ArrayFromString } from 'uint8arrays'
import { Ed25519Signer, peerIdToString } from '../../src/crypto/ed25519.js'
import { waitFor as waitUntil } from '../../src/cli/time.js'
import { loadEncryptionKey } from '../../src/node/index.js'
import { PROTOCOL_DELIVER } from '../../src/protocol/index.js'
import { api, killAll, startNode, tmtp, tmtpJson, type StartedNode } from '../support/cli.js'
import { Rogue, envelope, pushEnvelope, pushEpoch, receipts } from '../support/rogue.js'

/**
 * Every `tmtp` command end to end: child processes of bin/tmtp.js against real nodes
 * (`tmtp start`) on 127.0.0.1, in temporary data folders.
 */
/** A bootstrap peer nobody runs: kept in config.json, dialled in the background, harmless. */
const BOOTSTRAP = '/ip4/127.0.0.1/tcp/9/p2p/12D3KooWD5ADi81yH4qRWnZ7zbJgmTMgqtQfmteGhYTE9fDisB2B'

describe('cli: tmtp commands', function () {
  this.timeout(120_000)

  let root: string
  let siteDir: string
  let aliceDir: string
  let bobDir: string

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tmtp-cli-'))
    siteDir = join(root, 'site')
    aliceDir = join(root, 'alice')
    bobDir = join(root, 'bob')
  })

  after(async () => {
    await killAll()
    await rm(root, { recursive: true, force: true })
  })

  describe('without a running node', () => {
    it('init makes an owner-only folder with keys, config.json and a token, and --json parses', async () => {
      const [site, alice] = await Promise.all([
        tmtpJson(['init', '--role', 'site', '--name', 'CLI Club', '--data', siteDir]),
        tmtpJson(['init', '--role', 'member', '--name', 'alice-phone', '--data', aliceDir, '--listen', '/ip4/127.0.0.1/tcp/0'])
      ])
      assert.equal(site.role, 'site')
      assert.equal(site.name, 'CLI Club')
      assert.match(site.peerId, /^12D3KooW/)
      assert.equal(alice.role, 'member')
      assert.equal(((await stat(siteDir)).mode & 0o777), 0o700)
      for (const file of ['api.token', 'config.json', 'identity.key']) assert.equal(((await stat(join(siteDir, file))).mode & 0o777), 0o600, file)
      assert.equal(((await stat(join(aliceDir, 'encryption.key'))).mode & 0o777), 0o600)
      const config = JSON.parse(await readFile(join(siteDir, 'config.json'), 'utf8'))
      assert.deepEqual(config, { role: 'site', name: 'CLI Club', listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'], apiHost: '127.0.0.1', apiHosts: [], apiPort: 0, fsync: true, webhook: null, bootstrap: [], limits: {} })
      const token = (await readFile(join(siteDir, 'api.token'), 'utf8')).trim()
      assert.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url')

      const human = await tmtp(['init', '--role', 'member', '--name', 'bob-laptop', '--data', bobDir])
      assert.equal(human.code, 0, human.stderr)
      assert.match(human.stdout, /initialised a member node/)
      assert.match(human.stdout, /peer id: +12D3KooW/)
      assert.ok(!human.stdout.includes((await readFile(join(bobDir, 'api.token'), 'utf8')).trim()), 'init never prints the token')
    })

    it('init refuses an initialised folder and leaves it as it was', async () => {
      const before = await readFile(join(siteDir, 'config.json'), 'utf8')
      const again = await tmtp(['init', '--role', 'member', '--data', siteDir])
      assert.equal(again.code, 1)
      assert.match(again.stderr, /already initialised/)
      assert.equal(await readFile(join(siteDir, 'config.json'), 'utf8'), before)
      const json = await tmtp(['init', '--role', 'site', '--data', siteDir, '--json'])
      assert.equal(json.code, 1)
      assert.equal(JSON.parse(json.stderr).error.exitCode, 1)
    })

    it('bad arguments are usage errors (exit 1)', async () => {
      const runs = await Promise.all([
        tmtp(['init', '--role', 'relay', '--data', join(root, 'x')]),
        tmtp(['init', '--data', join(root, 'x')]),
        tmtp(['init', '--role', 'site', '--api-port', '70000', '--data', join(root, 'x')]),
        tmtp(['init', '--role', 'site', '--listen', '/ip4/1.2.3.4/nonsense', '--data', join(root, 'x')]),
        tmtp(['frobnicate']),
        tmtp(['status', '--data', join(root, 'never-initialised')])
      ])
      for (const run of runs) assert.equal(run.code, 1, run.stderr)
      assert.match(runs[0].stderr, /Allowed choices are site, member/)
      assert.match(runs[3].stderr, /not a multiaddr/)
      assert.match(runs[5].stderr, /not a tmtp data folder/)
      await assert.rejects(stat(join(root, 'x', 'config.json')))
    })

    it('a command against a node that is not running exits 2, also with a stale api.json', async () => {
      const missing = await tmtp(['status', '--data', siteDir])
      assert.equal(missing.code, 2)
      assert.match(missing.stderr, /not running/)
      // a pid above the largest pid_max: surely no process
      await writeFile(join(aliceDir, 'api.json'), JSON.stringify({ url: 'http://127.0.0.1:9', pid: 2 ** 22 + 1 }))
      const stale = await tmtp(['inbox', '--data', aliceDir, '--json'])
      assert.equal(stale.code, 2)
      assert.equal(JSON.parse(stale.stderr).error.code, 'NOT_RUNNING')
    })
  })

  describe('against running nodes', () => {
    let site: StartedNode
    let alice: StartedNode
    let bob: StartedNode
    let sitePeer: string
    let alicePeer: string
    let firstId: string

    before(async () => {
      // bob's API answers to a name of its operator's too (config.json apiHosts)
      const bobConfig = join(bobDir, 'config.json')
      await writeFile(bobConfig, JSON.stringify({ ...JSON.parse(await readFile(bobConfig, 'utf8')), apiHosts: ['bob.test'] }))
      ;[site, alice, bob] = await Promise.all([startNode(siteDir), startNode(aliceDir, ['--bootstrap', BOOTSTRAP]), startNode(bobDir)])
    })

    after(async () => {
      await Promise.all([site, alice, bob].map(async node => await node?.stop()))
    })

    it('start writes api.json; status shows the node (human and --json)', async () => {
      const info = JSON.parse(await readFile(join(siteDir, 'api.json'), 'utf8'))
      assert.equal(info.pid, site.child.pid)
      assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.deepEqual(JSON.parse(await readFile(join(aliceDir, 'config.json'), 'utf8')).bootstrap, [BOOTSTRAP])

      const [siteStatus, aliceStatus, human] = await Promise.all([
        tmtpJson(['status', '--data', siteDir]),
        tmtpJson(['status', '--data', aliceDir]),
        tmtp(['status', '--data', siteDir])
      ])
      assert.equal(siteStatus.role, 'site')
      assert.equal(siteStatus.api, info.url)
      assert.equal(typeof siteStatus.queued, 'number')
      assert.ok(siteStatus.listen.every((a: string) => a.startsWith('/ip4/127.0.0.1/tcp/')))
      assert.equal(aliceStatus.role, 'member')
      assert.equal(aliceStatus.sites, 0)
      sitePeer = siteStatus.peerId
      alicePeer = aliceStatus.peerId
      assert.equal(human.code, 0, human.stderr)
      assert.match(human.stdout, new RegExp(`peer id: +${sitePeer}`))
      assert.match(site.logs(), /local API on http:\/\/127\.0\.0\.1:\d+/)
    })

    it('start: the local API answers only to loopback names and config.json apiHosts', async () => {
      /** The status of GET /healthz with this Host header (fetch would not send it). */
      const health = async (node: StartedNode, host: string): Promise<number> => await new Promise((resolve, reject) => {
        request(`${node.client?.url ?? ''}/healthz`, { headers: { host } }, res => { res.resume(); resolve(res.statusCode ?? 0) }).on('error', reject).end()
      })
      assert.deepEqual(await Promise.all(['localhost', 'bob.test', 'Bob.Test:80', 'evil.test'].map(async host => await health(bob, host))), [200, 200, 200, 421])
      assert.deepEqual(await Promise.all(['127.0.0.1', 'bob.test'].map(async host => await health(site, host))), [200, 421])
    })

    it('start refuses a second node on the same folder', async () => {
      const second = await tmtp(['start', '--data', siteDir])
      assert.equal(second.code, 1)
      assert.match(second.stderr, /already running/)
    })

    it('invite and join: alice and bob become members; a bad or used token is refused (exit 5)', async () => {
      const token = (await tmtp(['invite', '--ref', 'alice', '--expires', '15m', '--data', siteDir])).stdout.trim()
      assert.match(token, /^tmtp1:/, 'a human invite prints just the token')
      const bobInvite = await tmtpJson(['invite', '--ref', 'bob', '--data', siteDir])
      assert.equal(bobInvite.ref, 'bob')
      assert.ok(bobInvite.expires > Date.now() + 6 * 24 * 3600_000, 'default lifetime: 7 days')

      const bad = await tmtp(['join', 'tmtp1:not-a-real-token', '--data', aliceDir])
      assert.equal(bad.code, 5)
      assert.match(bad.stderr, /token/)

      const spaced = await tmtp(['join', '\u00a0' + token, '--data', aliceDir, '--json'])
      assert.equal(spaced.code, 5)
      assert.equal(JSON.parse(spaced.stderr).error.code, 'BAD_TOKEN', 'U+00A0 is no white space around a token (spec 9.3)')

      const joined = await tmtpJson(['join', ` \t${token}\r\n`, '--data', aliceDir])
      assert.equal(joined.site, sitePeer)
      assert.equal(joined.siteName, 'CLI Club')
      const human = await tmtp(['join', bobInvite.token, '--data', bobDir])
      assert.equal(human.code, 0, human.stderr)
      assert.match(human.stdout, /joined "CLI Club"/)

      const reused = await tmtp(['join', token, '--data', bobDir, '--json'])
      assert.equal(reused.code, 5)
      assert.equal(JSON.parse(reused.stderr).error.code, 'INVITE_USED')

      const members = await tmtpJson(['members', '--data', siteDir])
      assert.deepEqual(members.members.map((m: { ref: string }) => m.ref).sort(), ['alice', 'bob'])
      const table = await tmtp(['members', '--data', siteDir])
      assert.match(table.stdout, /alice-phone/)
    })

    it('send and message: delivered to each device with a signed receipt', async () => {
      const sent = await tmtp(['send', '--to', 'alice,bob', '--subject', 'Hello', '--body', 'First message', '--urgency', 'high', '--data', siteDir])
      assert.equal(sent.code, 0, sent.stderr)
      firstId = sent.stdout.trim()
      assert.match(firstId, /^[0-9a-f]{32}$/, 'a human send prints just the id')
      await waitUntil('delivery to both devices', async () => {
        const status = await api(site, `/v1/messages/${firstId}`)
        return status.devices.length === 2 && status.devices.every((d: { state: string }) => d.state === 'delivered')
      })
      const status = await tmtpJson(['message', firstId, '--data', siteDir])
      assert.equal(status.subject, 'Hello')
      assert.equal(status.urgency, 'high')
      assert.ok(status.devices.every((d: { proof?: string }) => typeof d.proof === 'string'))
      const human = await tmtp(['message', firstId, '--data', siteDir])
      assert.match(human.stdout, /delivered .* signed/)
      assert.match(human.stdout, new RegExp(alicePeer))
    })

    it('send options: --file, --ttl, --topic, --idempotency-key (a retry sends nothing)', async () => {
      const file = join(root, 'body.md')
      await writeFile(file, '# Agenda\n\n1. hello\n')
      const args = ['send', '--to', 'alice', '--subject', 'Agenda', '--file', file, '--content-type', 'text/markdown', '--ttl', '2h', '--topic', 'agenda', '--idempotency-key', 'agenda-1', '--data', siteDir]
      const first = await tmtpJson(args)
      const retry = await tmtpJson(args)
      assert.equal(first.duplicate, false)
      assert.equal(retry.duplicate, true)
      assert.equal(retry.id, first.id)
      assert.ok(Math.abs(first.expires - first.created - 2 * 3600_000) < 1000)
      const stdin = await tmtpJson(['send', '--to', 'bob', '--subject', 'From stdin', '--file', '-', '--data', siteDir], { input: 'piped body' })
      await waitUntil('the stdin message at bob', async () => (await api(bob, '/v1/inbox')).messages.some((m: { id: string, body: string }) => m.id === stdin.id && m.body === 'piped body'))
      await waitUntil('the agenda at alice', async () => (await api(alice, '/v1/inbox')).messages.some((m: { id: string, body: string }) => m.id === first.id && m.body.startsWith('# Agenda')))
    })

    it('inbox, read, reply, replies: the reply reaches the site', async () => {
      const unread = await tmtpJson(['inbox', '--unread', '--data', aliceDir])
      assert.ok(unread.messages.some((m: { id: string }) => m.id === firstId))
      const list = await tmtp(['inbox', '--data', aliceDir])
      assert.match(list.stdout, new RegExp(`\\*  ${firstId}  CLI Club`))

      const read = await tmtp(['read', firstId, '--data', aliceDir])
      assert.equal(read.code, 0, read.stderr)
      assert.match(read.stdout, /subject: +Hello/)
      assert.doesNotMatch(read.stdout, /^type:/m, 'a message of the default content type shows no type line')
      assert.match(read.stdout, /\n\nFirst message\n$/)
      const after = await tmtpJson(['inbox', '--unread', '--data', aliceDir])
      assert.ok(!after.messages.some((m: { id: string }) => m.id === firstId), 'read marks the message read')

      const reply = await tmtp(['reply', firstId, '--body', 'Thanks!', '--data', aliceDir])
      assert.equal(reply.code, 0, reply.stderr)
      const replyId = reply.stdout.trim()
      assert.match(replyId, /^[0-9a-f]{32}$/)
      await waitUntil('the reply at the site', async () => (await api(site, '/v1/replies')).replies.some((r: { id: string }) => r.id === replyId))
      const replies = await tmtpJson(['replies', '--data', siteDir])
      const got = replies.replies.find((r: { id: string }) => r.id === replyId)
      assert.equal(got.body, 'Thanks!')
      assert.equal(got.subject, 'Re: Hello')
      assert.equal(got.replyTo, firstId)
      assert.equal(got.ref, 'alice')
      const page = await tmtpJson(['replies', '--limit', '1', '--data', siteDir])
      assert.equal(page.replies.length, 1)
      const human = await tmtp(['replies', '--data', siteDir])
      assert.match(human.stdout, /alice +Re: Hello +Thanks!/)
    })

    it('groups: create, add, list, page, send --group (the member sees the group), rename, remove, --all, delete; bad input exits with its code', async () => {
      const created = await tmtpJson(['group', 'create', 'Class 3B, morning', 'alice', '--data', siteDir])
      assert.deepEqual([created.name, created.size], ['Class 3B, morning', 1])
      const added = await tmtp(['group', 'add', created.id, 'bob', 'alice', '--data', siteDir])
      assert.equal(added.code, 0, added.stderr)
      assert.match(added.stdout, /^1 joined "Class 3B, morning", which has 2 members$/m)
      assert.match((await tmtp(['groups', '--data', siteDir])).stdout, /Class 3B, morning +2 /)
      const first = await tmtpJson(['group', 'members', 'Class 3B, morning', '--limit', '1', '--data', siteDir])
      assert.equal(first.members.length, 1)
      const rest = await tmtpJson(['group', 'members', 'Class 3B, morning', '--after', first.next, '--data', siteDir])
      assert.deepEqual([...first.members, ...rest.members].map((m: { ref: string }) => m.ref).sort(), ['alice', 'bob'])
      assert.equal(rest.next, null)
      assert.deepEqual((await tmtpJson(['groups', '--member', 'bob', '--data', siteDir])).groups.map((g: { id: string }) => g.id), [created.id])

      const sent = await tmtpJson(['send', '--group', 'Class 3B, morning', '--subject', 'Outing', '--body', 'Friday', '--data', siteDir])
      assert.equal(sent.recipients.length, 2)
      await waitUntil('the group message at bob', async () => (await api(bob, '/v1/inbox')).messages.some((m: { id: string, group: string }) => m.id === sent.id && m.group === 'Class 3B, morning'))
      assert.match((await tmtp(['inbox', '--data', bobDir])).stdout, new RegExp(`${sent.id as string}  CLI Club · Class 3B, morning`))
      assert.match((await tmtp(['read', sent.id, '--data', bobDir])).stdout, /^group: +Class 3B, morning$/m)

      assert.equal((await tmtpJson(['group', 'rename', 'Class 3B, morning', 'Class 4B', '--data', siteDir])).name, 'Class 4B')
      assert.equal((await tmtpJson(['group', 'remove', 'Class 4B', 'bob', '--data', siteDir])).changed, 1)
      const everyone = await tmtpJson(['send', '--all', '--group', 'Class 4B', '--subject', 'Everyone', '--body', 'b', '--data', siteDir])
      assert.equal(everyone.recipients.length, 2, 'alice and bob, once each')
      await waitUntil('the message to all at alice', async () => (await api(alice, '/v1/inbox')).messages.some((m: { id: string, group: string }) => m.id === everyone.id && m.group === 'Class 4B'))

      const [taken, badName, unknown, none] = await Promise.all([
        tmtp(['group', 'create', 'Class 4B', '--data', siteDir, '--json']),
        tmtp(['group', 'create', ' padded', '--data', siteDir, '--json']),
        tmtp(['group', 'add', 'Nope', 'alice', '--data', siteDir, '--json']),
        tmtp(['send', '--subject', 's', '--body', 'b', '--data', siteDir])
      ])
      for (const [run, exit, code] of [[taken, 1, 'GROUP_NAME_TAKEN'], [badName, 1, 'INVALID_GROUP_NAME'], [unknown, 4, 'UNKNOWN_GROUP']] as const) {
        assert.equal(run.code, exit, run.stderr)
        assert.equal(JSON.parse(run.stderr).error.code, code)
      }
      assert.equal(none.code, 1)
      assert.match(none.stderr, /name the recipients with --to, --group or --all/)
      assert.equal((await tmtp(['group', 'delete', 'Class 4B', '--data', siteDir])).code, 0)
      assert.match((await tmtp(['groups', '--data', siteDir])).stdout, /no groups yet/)
    })

    it('errors: unknown member and message exit 4, wrong role and missing arguments exit 1', async () => {
      const [member, message, inbox, role, body, both, duration] = await Promise.all([
        tmtp(['send', '--to', 'nobody', '--subject', 's', '--body', 'b', '--data', siteDir, '--json']),
        tmtp(['message', '0123456789abcdef0123456789abcdef', '--data', siteDir]),
        tmtp(['read', '0123456789abcdef0123456789abcdef', '--data', aliceDir]),
        tmtp(['invite', '--data', aliceDir]),
        tmtp(['send', '--to', 'alice', '--subject', 's', '--data', siteDir]),
        tmtp(['send', '--to', 'alice', '--subject', 's', '--body', 'b', '--file', '/dev/null', '--data', siteDir]),
        tmtp(['invite', '--expires', 'soon', '--data', siteDir])
      ])
      assert.equal(member.code, 4, member.stderr)
      assert.deepEqual(JSON.parse(member.stderr).error, { code: 'UNKNOWN_MEMBER', message: 'no member with id or reference "nobody"', exitCode: 4 })
      assert.equal(message.code, 4)
      assert.match(message.stderr, /no message/)
      assert.equal(inbox.code, 4)
      assert.equal(role.code, 1)
      assert.match(role.stderr, /needs a site node/)
      assert.equal(body.code, 1)
      assert.equal(both.code, 1)
      assert.match(both.stderr, /exactly one of --body TEXT or --file PATH/)
      assert.equal(duration.code, 1)
      assert.match(duration.stderr, /not a duration/)
    })

    it('a wrong token exits 3, and no command prints the token', async () => {
      const tokenFile = join(siteDir, 'api.token')
      const real = await readFile(tokenFile, 'utf8')
      await writeFile(tokenFile, 'x'.repeat(43) + '\n')
      try {
        const [status, invite] = await Promise.all([
          tmtp(['status', '--data', siteDir]),
          tmtp(['invite', '--data', siteDir, '--json'])
        ])
        assert.equal(status.code, 3)
        assert.match(status.stderr, /refused the API token/)
        assert.equal(invite.code, 3)
        assert.equal(JSON.parse(invite.stderr).error.code, 'UNAUTHORIZED')
        for (const run of [status, invite]) assert.ok(!(run.stdout + run.stderr).includes('x'.repeat(43)))
      } finally {
        await writeFile(tokenFile, real)
      }
      const ok = await tmtp(['status', '--data', siteDir, '--json'])
      assert.equal(ok.code, 0)
      assert.ok(!ok.stdout.includes(real.trim()))
      assert.ok(!site.logs().includes(real.trim()))
    })

    it('sites, block, unblock and leave', async () => {
      const sites = await tmtpJson(['sites', '--data', aliceDir])
      assert.equal(sites.sites.length, 1)
      assert.equal(sites.sites[0].peerId, sitePeer)
      assert.equal(sites.sites[0].name, 'CLI Club')
      const human = await tmtp(['sites', '--data', aliceDir])
      assert.match(human.stdout, new RegExp(`${sitePeer}  CLI Club`))

      const stranger = peerIdToString(Ed25519Signer.generate().peerId)
      const blocked = await tmtpJson(['block', stranger, '--data', aliceDir])
      assert.deepEqual(blocked, { peer: stranger, blocked: true })
      assert.equal((await tmtp(['unblock', stranger, '--data', aliceDir])).code, 0)
      const notPeer = await tmtp(['block', 'not-a-peer-id', '--data', aliceDir])
      assert.equal(notPeer.code, 1, notPeer.stderr)
      const unknownSite = await tmtp(['leave', stranger, '--data', aliceDir])
      assert.equal(unknownSite.code, 4, unknownSite.stderr)

      const left = await tmtpJson(['leave', sitePeer, '--data', bobDir])
      assert.equal(left.site, sitePeer)
      assert.equal(left.notified, true)
      const bobSites = await tmtpJson(['sites', '--data', bobDir])
      assert.ok(bobSites.sites[0].left > 0)
      // the site detaches the device: bob stays a member without devices
      const bobAtSite = (await api(site, '/v1/members')).members.find((m: { ref: string }) => m.ref === 'bob')
      assert.deepEqual(bobAtSite.devices, [])
      const toBob = await tmtp(['send', '--to', 'bob', '--subject', 's', '--body', 'b', '--data', siteDir, '--json'])
      assert.equal(toBob.code, 5, toBob.stderr)
      assert.equal(JSON.parse(toBob.stderr).error.code, 'NO_DEVICES')
    })

    it('read and reply name the site where two sites sent one id (--site)', async () => {
      // a second site alice joins (a rogue, which may choose its ids) sends a message under firstId
      const rogue = await Rogue.start()
      try {
        await rogue.actAsSite()
        const joined = await tmtp(['join', rogue.invite(), '--data', aliceDir])
        assert.equal(joined.code, 0, joined.stderr)
        const listen: string[] = (await api(alice, '/v1/status')).listen
        const epoch = await rogue.epoch(alicePeer, (await loadEncryptionKey(aliceDir)).publicKey)
        const same = envelope(epoch, { sender: rogue.peerId, recipient: alicePeer, id: uint8ArrayFromString(firstId, 'base16') })
        const target = { peerId: alicePeer, libp2p: { getMultiaddrs: () => listen.map(a => multiaddr(a)) } }
        assert.equal(receipts(await rogue.exchange(target, PROTOCOL_DELIVER, Uint8Array.from([...pushEpoch(epoch.signed), ...pushEnvelope(same)]))).acks, 1)

        const [ambiguous, noSite] = await Promise.all([
          tmtp(['read', firstId, '--data', aliceDir, '--json']),
          tmtp(['reply', firstId, '--body', 'which?', '--data', aliceDir, '--json'])
        ])
        for (const run of [ambiguous, noSite]) {
          assert.equal(run.code, 1, run.stderr)
          const { error } = JSON.parse(run.stderr)
          assert.equal(error.code, 'INVALID_ARGUMENT')
          for (const peer of [sitePeer, rogue.peerId]) assert.ok(error.message.includes(peer), error.message)
        }
        assert.equal((await tmtpJson(['read', firstId, '--site', sitePeer, '--data', aliceDir])).subject, 'Hello')
        assert.equal((await tmtpJson(['read', firstId, '--site', rogue.peerId, '--data', aliceDir])).subject, 'from the rogue')
        const reply = await tmtpJson(['reply', firstId, '--site', sitePeer, '--body', 'Again', '--data', aliceDir])
        assert.deepEqual([reply.site, reply.replyTo], [sitePeer, firstId])
        await waitUntil('the reply at the site', async () => (await api(site, '/v1/replies')).replies.some((r: { id: string }) => r.id === reply.id))
      } finally {
        await rogue.stop()
      }
    })

    it('remove-member removes a member at the site', async () => {
      const removed = await tmtpJson(['remove-member', 'alice', '--data', siteDir])
      assert.equal(removed.ref, 'alice')
      const again = await tmtp(['remove-member', 'alice', '--data', siteDir])
      assert.equal(again.code, 4)
    })

    it('SIGTERM stops a node cleanly: exit 0 and api.json removed', async () => {
      const exit = await bob.stop('SIGTERM')
      assert.deepEqual(exit, { code: 0, signal: null })
      await assert.rejects(stat(join(bobDir, 'api.json')))
      assert.match(bob.logs(), /stopping \(SIGTERM\)[\s\S]*stopped/)
      const status = await tmtp(['status', '--data', bobDir])
      assert.equal(status.code, 2)
    })
  })
})
