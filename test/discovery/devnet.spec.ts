import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { waitFor } from '../../src/cli/time.js'

interface DevnetNode { name: string, role: string, peerId: string, listen: string[], url?: string, data: string }

async function api<T> (node: DevnetNode, method: string, path: string, body?: unknown): Promise<T> {
  const token = (await readFile(join(node.data, 'api.token'), 'utf8')).trim()
  const res = await fetch(`${node.url ?? ''}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`)
  return await res.json() as T
}

describe('scripts/devnet: 12 nodes as processes', function () {
  this.timeout(180_000)
  let devnet: ChildProcess | undefined

  afterEach(async () => {
    if (devnet !== undefined && devnet.exitCode === null) {
      const exited = new Promise(resolve => devnet?.once('exit', resolve))
      devnet.kill('SIGINT')
      await exited
    }
    devnet = undefined
  })

  it('starts a bootstrap node, sites and joined members; every member gets its site\'s message; stops and cleans up on SIGINT', async () => {
    devnet = spawn(process.execPath, ['--import', 'tsx', 'scripts/devnet.ts', '--sites', '3', '--members', '8', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] })
    const line = await new Promise<string>((resolve, reject) => {
      devnet?.once('exit', code => { reject(new Error(`devnet exited with ${String(code)}`)) })
      createInterface({ input: devnet!.stdout! }).once('line', resolve)
    })
    const { root, nodes } = JSON.parse(line) as { root: string, nodes: DevnetNode[] }
    assert.equal(nodes.length, 12)
    assert.deepEqual(nodes.map(n => n.role), ['bootstrap', 'site', 'site', 'site', ...Array(8).fill('member')])
    for (const n of nodes) assert.ok(n.listen.every(a => a.startsWith('/ip4/127.0.0.1/tcp/')), `${n.name} listens on loopback only`)

    const sites = nodes.filter(n => n.role === 'site')
    const members = nodes.filter(n => n.role === 'member')
    const sent = new Map<string, string>()
    for (const [i, member] of members.entries()) {
      const result = await api<{ id: string }>(sites[i % sites.length], 'POST', '/v1/messages', { to: [member.name], subject: `to ${member.name}`, body: 'hello' })
      sent.set(member.name, result.id)
    }
    for (const member of members) {
      const inbox = await waitFor(`${member.name}'s message`, async () => {
        const { messages } = await api<{ messages: Array<{ id: string }> }>(member, 'GET', '/v1/inbox')
        return messages.length > 0 && messages
      })
      assert.deepEqual(inbox.map(m => m.id), [sent.get(member.name)])
    }

    const exited = new Promise<number | null>(resolve => devnet?.once('exit', resolve))
    devnet.kill('SIGINT')
    assert.equal(await exited, 0)
    await assert.rejects(stat(root), { code: 'ENOENT' })
  })
})
