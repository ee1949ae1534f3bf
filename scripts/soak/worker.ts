/**
 * A soak child process (driven by scripts/soak/run.ts over IPC, see scripts/lib/ipc-child.ts):
 *
 *   node --import tsx scripts/soak/worker.ts <base dir>
 *
 * Hosts many TMTP member nodes, each addressed by its member reference and kept in
 * `<base dir>/<ref>`, that the soak adds, joins, stops, restarts on the same data folder
 * and makes leave one at a time (the bench's `members` role starts and stops them all at
 * once). The site is the bench's own `site` role (scripts/bench/worker.ts).
 */
import '../../src/polyfill.js'
import { join } from 'node:path'
import { createMemberNode, type MemberNode } from '../../src/node/member-node.js'
import { serveIpc } from '../lib/ipc-child.js'

type Handler = (args: any) => Promise<unknown>

interface Hosted {
  dir: string
  node?: MemberNode
  /** 'message' events since the member was added, over all its restarts. */
  events: number
}

/** How long one node's stop() may take before the process reports it stuck. */
const NODE_STOP_MS = 15_000

const base = process.argv[2]
const members = new Map<string, Hosted>()

function hosted (ref: string): Hosted {
  const m = members.get(ref)
  if (m === undefined) throw new Error(`no member ${JSON.stringify(ref)} in this process`)
  return m
}

async function bounded<T> (ms: number, what: string, run: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([run, new Promise<never>((resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what}: not done after ${ms} ms`)) }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}

async function startNode (m: Hosted): Promise<MemberNode> {
  if (m.node !== undefined) throw new Error(`${m.dir} is already running`)
  const node = await createMemberNode({ dataDir: m.dir, deviceName: 'soak device', dht: false })
  node.addEventListener('message', () => { m.events++ })
  m.node = node
  return node
}

async function stopNode (m: Hosted): Promise<void> {
  const node = m.node
  if (node === undefined) return
  m.node = undefined
  // the next start opens the same LevelDB: it must be closed, not abandoned
  await bounded(NODE_STOP_MS, `stopping ${m.dir}`, node.stop())
}

function running (ref: string): MemberNode {
  const node = hosted(ref).node
  if (node === undefined) throw new Error(`member ${ref} is not running`)
  return node
}

/** One member's inbox against the subjects the soak sent it. */
async function check (ref: string, expected: string[]): Promise<{ lost: number, duplicated: number, unexpected: number, received: number, extraEvents: number, lostSubjects: string[] }> {
  const m = hosted(ref)
  const inbox = await running(ref).inbox()
  const counts = new Map<string, number>()
  for (const message of inbox) counts.set(message.subject, (counts.get(message.subject) ?? 0) + 1)
  const want = new Set(expected)
  const lostSubjects = expected.filter(s => !counts.has(s))
  let duplicated = 0
  let unexpected = 0
  for (const [subject, n] of counts) {
    duplicated += n - 1
    if (!want.has(subject)) unexpected += n
  }
  return { lost: lostSubjects.length, duplicated, unexpected, received: inbox.length, extraEvents: Math.max(0, m.events - inbox.length), lostSubjects: lostSubjects.slice(0, 5) }
}

const handlers: Record<string, Handler> = {
  /** Creates (first start) a member node for `ref`; its PeerId. */
  add: async ({ ref }: { ref: string }) => {
    if (members.has(ref)) throw new Error(`member ${ref} exists`)
    const m: Hosted = { dir: join(base, ref), events: 0 }
    members.set(ref, m)
    return (await startNode(m)).peerId
  },
  join: async ({ ref, token }: { ref: string, token: string }) => (await running(ref).join(token)).site,
  /** Disconnects: stops the node (its data folder stays). */
  down: async ({ ref }: { ref: string }) => { await stopNode(hosted(ref)); return null },
  /** Reconnects: starts the node again on the same data folder (it connects to its sites). */
  up: async ({ ref }: { ref: string }) => { await startNode(hosted(ref)); return null },
  /** Leaves the site (signed, then blocks it), then stops the node for good. */
  leave: async ({ ref, site }: { ref: string, site: string }) => {
    const m = hosted(ref)
    const result = await running(ref).leave(site)
    await stopNode(m)
    return result
  },
  /** Checks each member's inbox against what was sent to it (refs absent here are an error). */
  verify: async ({ expected }: { expected: Record<string, string[]> }) => {
    const total = { members: 0, lost: 0, duplicated: 0, unexpected: 0, received: 0, extraEvents: 0, lostSamples: [] as string[] }
    for (const [ref, subjects] of Object.entries(expected)) {
      const r = await check(ref, subjects)
      total.members++
      total.lost += r.lost
      total.duplicated += r.duplicated
      total.unexpected += r.unexpected
      total.received += r.received
      total.extraEvents += r.extraEvents
      if (total.lostSamples.length < 10) total.lostSamples.push(...r.lostSubjects.map(s => `${ref}:${s}`))
    }
    return total
  },
  rss: async () => {
    const m = process.memoryUsage()
    return { rss: m.rss, heapUsed: m.heapUsed, nodes: [...members.values()].filter(h => h.node !== undefined).length }
  },
  stop: async () => {
    await Promise.allSettled([...members.values()].map(stopNode))
    return null
  }
}

if (process.send === undefined || base === undefined) {
  console.error('usage: run by scripts/soak/run.ts with an IPC channel: worker.ts <base dir>')
  process.exit(1)
}
// the soak going away stops the nodes (bounded) and exits
serveIpc(handlers, { label: 'soak members', ready: { pid: process.pid }, stop: async () => await handlers.stop({}), graceMs: 5_000 })
