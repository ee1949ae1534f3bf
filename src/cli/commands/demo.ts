import type { Command } from 'commander'
import { formatSpan } from '../duration.js'
import { runDemo, type DemoStep } from '../demo.js'
import { CliError, EXIT } from '../errors.js'
import { table } from '../output.js'
import { command, context, type CommonOptions } from './common.js'

interface DemoCommandOptions extends CommonOptions {
  verbose?: boolean
  keep?: boolean
}

export function demoCommand (): Command {
  return command('demo', 'run a site and two members as separate processes on 127.0.0.1 and check delivery end to end')
    .option('--verbose', 'show the nodes\' log lines')
    .option('--keep', 'keep the temporary data folders')
    .action(async (opts: DemoCommandOptions) => {
      const { out } = context(opts)
      let interrupted: string | undefined
      const abort = new Promise<string>(resolve => {
        const stop = (signal: string): void => {
          interrupted = signal
          resolve(signal)
        }
        process.once('SIGINT', () => { stop('SIGINT') })
        process.once('SIGTERM', () => { stop('SIGTERM') })
      })
      const write = (line: string): void => { if (!out.json) process.stdout.write(line + '\n') }
      write('TMTP demo: a site and two member devices (alice, bob), each its own process on 127.0.0.1\n')
      write(`${'#'.padStart(2)}  ${'step'.padEnd(58)} ${'ms'.padStart(6)}  detail`)
      const summary = await runDemo({
        abort,
        keep: opts.keep,
        logs: opts.verbose === true ? process.stderr : undefined,
        onStep: (s: DemoStep) => { write(`${String(s.n).padStart(2)}  ${s.step.padEnd(58)} ${String(s.ms).padStart(6)}  ${s.detail}`) }
      })
      out.result(summary, () => {
        const lines = ['']
        if (summary.receipts.length > 0) {
          lines.push('delivery receipts (from the site\'s message status)', table(
            ['message', 'member', 'device', 'state', 'send -> receipt', 'signed receipt'],
            summary.receipts.map(r => [r.message, r.member, r.device, r.state, r.latencyMs === null ? '' : `${r.latencyMs} ms`, r.receipt ? 'yes' : 'no']),
            80), '')
        }
        lines.push(summary.ok
          ? `OK: every message arrived exactly once, ${summary.receipts.length} signed receipts, the reply arrived (${formatSpan(summary.totalMs)} in all)`
          : `FAILED after ${formatSpan(summary.totalMs)}`)
        return lines.join('\n')
      })
      if (interrupted !== undefined) throw new CliError(EXIT.INTERRUPTED, 'INTERRUPTED', `demo interrupted (${interrupted}); its processes and folders are cleaned up`)
      if (!summary.ok) throw new CliError(EXIT.DEMO_FAILED, 'DEMO_FAILED', `demo failed: ${summary.reason ?? 'unknown reason'}`)
    })
}
