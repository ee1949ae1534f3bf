/**
 * A local TMTP network for larger scenarios and benchmarks: one bootstrap node, sites and
 * member devices, each its own `tmtp start` process on 127.0.0.1, in a temporary folder.
 * Every member joins one of the sites (round robin). Prints one line per node (or, with
 * --json, one JSON object with every node) and runs until SIGINT/SIGTERM or --for seconds,
 * then stops every process and removes the folder.
 *
 *   npx tsx scripts/devnet.ts [--sites 3] [--members 8] [--for SECONDS] [--json]
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { BIN, TmtpProcess, type TmtpReady } from '../src/cli/tmtp-process.js'

/** A bound on the network, so that a typo cannot start hundreds of processes. */
const MAX_NODES = 64
const START_TIMEOUT_MS = 60_000

interface DevnetNode extends TmtpReady { name: string, data: string }

const children = new Set<TmtpProcess>()

async function tmtp (args: string[]): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c })
    child.stderr.setEncoding('utf8').on('data', (c: string) => { err += c })
    child.once('exit', code => { code === 0 ? resolve(out) : reject(new Error(`tmtp ${args[0]} failed: ${err.trim()}`)) })
  })
}

async function start (name: string, data: string, bootstrap: string[]): Promise<DevnetNode> {
  const node = await TmtpProcess.start(data, { name, args: bootstrap.length > 0 ? ['--bootstrap', ...bootstrap] : [], timeoutMs: START_TIMEOUT_MS })
  children.add(node)
  return { ...node.ready, name, data }
}

async function stopAll (): Promise<void> {
  await Promise.all([...children].map(async node => await node.stop('SIGTERM', 10_000)))
}

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      sites: { type: 'string', default: '3' },
      members: { type: 'string', default: '8' },
      for: { type: 'string' },
      json: { type: 'boolean', default: false }
    }
  })
  const sites = Number(values.sites)
  const members = Number(values.members)
  if (!Number.isInteger(sites) || !Number.isInteger(members) || sites < 1 || members < 0 || 1 + sites + members > MAX_NODES) {
    throw new Error(`--sites (at least 1) and --members make at most ${MAX_NODES} nodes with the bootstrap node`)
  }
  const root = await mkdtemp(join(tmpdir(), 'tmtp-devnet-'))
  let stopping = false
  const stop = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true
      await stopAll()
      await rm(root, { recursive: true, force: true })
    }
    process.exit(code)
  }
  process.once('SIGINT', () => { stop(0).catch(() => {}) })
  process.once('SIGTERM', () => { stop(0).catch(() => {}) })
  try {
    const init = async (name: string, role: string): Promise<string> => {
      const data = join(root, name)
      await tmtp(['init', '--role', role, '--name', name, '--data', data])
      return data
    }
    const boot = await start('bootstrap', await init('bootstrap', 'bootstrap'), [])
    const bootstrap = boot.listen
    const siteNodes = await Promise.all(Array.from({ length: sites }, async (_, i) => await start(`site${i}`, await init(`site${i}`, 'site'), bootstrap)))
    const memberNodes = await Promise.all(Array.from({ length: members }, async (_, i) => await start(`member${i}`, await init(`member${i}`, 'member'), bootstrap)))
    for (const [i, member] of memberNodes.entries()) {
      const site = siteNodes[i % sites]
      const token = (JSON.parse(await tmtp(['invite', '--data', site.data, '--ref', member.name])) as { token: string }).token
      await tmtp(['join', '--data', member.data, token])
    }
    const nodes = [boot, ...siteNodes, ...memberNodes]
    if (values.json) {
      process.stdout.write(JSON.stringify({ root, nodes }) + '\n')
    } else {
      for (const n of nodes) {
        // the API token stays in its file: only the path is printed
        const token = n.url === undefined ? '' : ` token ${join(n.data, 'api.token')}`
        process.stdout.write(`${n.name.padEnd(10)} ${n.role.padEnd(9)} ${n.peerId} ${n.listen[0] ?? ''}${n.url === undefined ? '' : ` api ${n.url}`}${token}\n`)
      }
      process.stdout.write(`${nodes.length} nodes in ${root}; Ctrl-C stops them all\n`)
    }
    if (values.for !== undefined) {
      setTimeout(() => { stop(0).catch(() => {}) }, Number(values.for) * 1000)
    }
  } catch (err) {
    process.stderr.write(`devnet: ${(err as Error).message}\n`)
    await stop(1)
  }
}

await main()
