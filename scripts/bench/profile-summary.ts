/**
 * Summarises a V8 .cpuprofile (node --cpu-prof, e.g. from `npm run bench -- --only W1
 * --profile-site DIR`): self time by function, by source file and by package, top first.
 *
 *   npx tsx scripts/bench/profile-summary.ts FILE.cpuprofile [--top 25]
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  hitCount?: number
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } })
if (positionals.length !== 1) {
  process.stderr.write('usage: npx tsx scripts/bench/profile-summary.ts FILE.cpuprofile [--top 25]\n')
  process.exit(1)
}
const top = Number(values.top)
const profile = JSON.parse(await readFile(positionals[0], 'utf8')) as Profile

// self time per node from the samples and their time deltas
const selfUs = new Map<number, number>()
const samples = profile.samples ?? []
const deltas = profile.timeDeltas ?? []
for (let i = 0; i < samples.length; i++) selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0))
const total = [...selfUs.values()].reduce((a, b) => a + b, 0)

function packageOf (url: string): string {
  if (url === '') return '(native / V8)'
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
  }
  if (url.startsWith('node:')) return 'node core'
  const src = url.indexOf('/src/')
  if (src >= 0) return `tmtp ${url.slice(src + 1).split('/').slice(0, 2).join('/')}`
  return url
}

const byFunction = new Map<string, number>()
const byFile = new Map<string, number>()
const byPackage = new Map<string, number>()
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0
  if (us === 0) continue
  const { functionName, url, lineNumber } = node.callFrame
  const file = url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '').replace(/^.*\/work\/[^/]+\//, '')
  const fn = `${functionName === '' ? '(anonymous)' : functionName}  ${file}${url === '' ? '' : `:${lineNumber + 1}`}`
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us)
  byFile.set(file === '' ? '(native / V8)' : file, (byFile.get(file === '' ? '(native / V8)' : file) ?? 0) + us)
  byPackage.set(packageOf(url), (byPackage.get(packageOf(url)) ?? 0) + us)
}

// inclusive time of TMTP's own functions (a function that recurses is counted once per frame)
const nodesById = new Map(profile.nodes.map(n => [n.id, n]))
const inclusive = new Map<number, number>()
const totalOf = (id: number): number => {
  const cached = inclusive.get(id)
  if (cached !== undefined) return cached
  const node = nodesById.get(id)
  let us = selfUs.get(id) ?? 0
  for (const child of node?.children ?? []) us += totalOf(child)
  inclusive.set(id, us)
  return us
}
const byOwnFunction = new Map<string, number>()
for (const node of profile.nodes) {
  const { functionName, url, lineNumber } = node.callFrame
  if (!url.includes('/src/') || url.includes('node_modules')) continue
  const fn = `${functionName === '' ? '(anonymous)' : functionName}  ${url.slice(url.indexOf('/src/') + 1)}:${lineNumber + 1}`
  byOwnFunction.set(fn, (byOwnFunction.get(fn) ?? 0) + totalOf(node.id))
}

function print (title: string, map: Map<string, number>): void {
  process.stdout.write(`\n${title}\n`)
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${(100 * us / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}\n`)
  }
}

process.stdout.write(`profile: ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s wall, ${(total / 1e6).toFixed(1)} s sampled\n`)
print('self time by package', byPackage)
print('self time by file', byFile)
print('self time by function', byFunction)
print('total time (inclusive) of TMTP functions', byOwnFunction)
