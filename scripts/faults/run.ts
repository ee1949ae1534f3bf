/**
 * The fault campaign of issue #7 (npm run faults): see campaign.ts for what it does.
 *
 *   npm run faults -- [--rounds 100] [--seed S] [--faults kill-site,cut-member,…]
 *
 * Prints a line per round and a summary; exits 0 only when every invariant holds, 1 when
 * one does not, 2 on a usage error or when tmpfs cannot be mounted (storage faults need root).
 */
import '../../src/polyfill.js'
import { parseArgs } from 'node:util'
import { Campaign, FAULTS, ROUND_HEADER, STORAGE_FAULTS, formatSummary, type Fault } from './campaign.js'
import { MountError } from './tmpfs.js'

const USAGE = `usage: npm run faults -- [--rounds N] [--seed S] [--faults ${FAULTS.join(',')}]`

function options (): { rounds: number, seed: number, faults: Fault[] } {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '100' },
      seed: { type: 'string' },
      faults: { type: 'string', default: FAULTS.join(',') }
    }
  })
  const rounds = Number(values.rounds)
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(values.seed)
  const faults = values.faults.split(',') as Fault[]
  if (!Number.isSafeInteger(rounds) || rounds < 1 || rounds > 10_000) throw new Error(`--rounds must be 1 to 10000\n${USAGE}`)
  if (!Number.isSafeInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new Error(`--seed must be an integer in [0, 2^32)\n${USAGE}`)
  const unknown = faults.filter(f => !FAULTS.includes(f))
  if (unknown.length > 0) throw new Error(`unknown faults ${unknown.join(', ')}\n${USAGE}`)
  return { rounds, seed, faults }
}

async function main (): Promise<number> {
  let opts: ReturnType<typeof options>
  try {
    opts = options()
  } catch (err) {
    console.error((err as Error).message)
    return 2
  }
  const log = (line: string): void => { console.log(line) }
  const campaign = new Campaign({ ...opts, catchUpMs: 60_000, faultDelayMs: [100, 1500], log })
  const interrupted = (): void => {
    console.error('interrupted: cleaning up')
    campaign.cleanUp().finally(() => process.exit(130))
  }
  process.once('SIGINT', interrupted)
  process.once('SIGTERM', interrupted)
  console.log(`fault campaign: ${opts.rounds} rounds, seed ${opts.seed} (--seed ${opts.seed} replays the choices), faults ${opts.faults.join(', ')}`)
  console.log(ROUND_HEADER)
  try {
    const summary = await campaign.run()
    console.log('')
    for (const line of formatSummary(summary)) console.log(line)
    return summary.ok ? 0 : 1
  } catch (err) {
    if (err instanceof MountError && err.code === 'MOUNT_NOT_PERMITTED') {
      console.error(`storage faults need a tmpfs mount (root): ${err.message}\nleave them out with --faults ${FAULTS.filter(f => !STORAGE_FAULTS.includes(f)).join(',')}`)
      return 2
    }
    console.error('the campaign failed:', err)
    return 1
  }
}

process.exitCode = await main()
