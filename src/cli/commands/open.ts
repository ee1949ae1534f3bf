import { spawn } from 'node:child_process'
import { join } from 'node:path'
import type { Command } from 'commander'
import { connect } from '../client.js'
import { readToken, writeFileAtomic } from '../config.js'
import { CliError, EXIT } from '../errors.js'
import { command, context, type CommonOptions } from './common.js'
import type { MemberStatusResponse } from '../../api/index.js'

/**
 * `tmtp open`: the running member node's inbox page in a browser, signed in. The token goes to
 * the page in the address's fragment (`#token=…`), which a browser never sends to a server, and
 * which the page moves into its session storage and out of the address bar at once. The address
 * is handed to the browser through a file in the data folder (owner-only, like api.token) that
 * redirects to it, not as the opener's argument: a command line is visible to every user of the
 * machine (ps, /proc), a 0600 file is not.
 */

/** The redirecting page `tmtp open` writes into the data folder and opens. */
export const OPEN_FILE = 'inbox.html'

function attribute (value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')
}

/** A page that sends the browser on to `address` at once, with no script (a meta refresh). */
function redirectPage (address: string): string {
  const href = attribute(address)
  return `<!doctype html>\n<meta charset="utf-8">\n<meta name="referrer" content="no-referrer">\n<meta http-equiv="refresh" content="0; url=${href}">\n<title>TMTP inbox</title>\n<p>Opening <a href="${href}">the TMTP inbox</a>…</p>\n`
}

/** The program that opens a file in the desktop's browser. */
function opener (file: string): [string, string[]] {
  if (process.platform === 'darwin') return ['open', [file]]
  if (process.platform === 'win32') return ['cmd', ['/c', 'start', '""', file]]
  return ['xdg-open', [file]]
}

async function openInBrowser (file: string): Promise<void> {
  const [program, args] = opener(file)
  await new Promise<void>((resolve, reject) => {
    const child = spawn(program, args, { detached: true, stdio: 'ignore' })
    child.once('error', err => {
      reject(new CliError(EXIT.USAGE, 'NO_BROWSER', `cannot run ${program} (${(err as NodeJS.ErrnoException).code ?? err.message}): open ${file} in a browser, or use "tmtp open --print"`))
    })
    child.once('spawn', () => {
      child.unref()
      resolve()
    })
  })
}

export function openCommand (): Command {
  return command('open', 'member: open the running node\'s inbox page in a browser, signed in')
    .option('--print', 'print the signed-in address instead (it holds the API token: keep it as you keep the token)')
    .action(async (opts: CommonOptions & { print?: boolean }) => {
      const { dir, out } = context(opts)
      const { client } = await connect(dir, 'member', 'open')
      // the node answers and takes the token before a browser is sent to it
      await client.get<MemberStatusResponse>('/v1/status')
      const page = `${client.url}/`
      const address = `${page}#token=${encodeURIComponent(await readToken(dir))}`
      if (opts.print === true) {
        out.result({ url: address }, () => address)
        return
      }
      const file = join(dir, OPEN_FILE)
      await writeFileAtomic(file, redirectPage(address), 0o600)
      await openInBrowser(file)
      out.result({ url: page, file }, () => `opened the inbox (${page}) in your browser`)
    })
}
