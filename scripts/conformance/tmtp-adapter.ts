import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { BIN, TmtpProcess } from '../../src/cli/tmtp-process.js'
import type { DriverTemplates } from './driver.js'

/**
 * This node as an implementation under test, the kit's first driver: a `tmtp init` data
 * folder, `tmtp start` in a child process (its libp2p address is what the kit dials), and
 * one `tmtp <command> --json` per driver step. The kit sees the node only through that
 * command and the wire, as it sees any other implementation.
 */

/** The driver templates of a `tmtp` node whose data folder is `dir`. */
export function tmtpDriver (role: 'site' | 'member', dir: string): DriverTemplates {
  const tmtp = (...words: string[]): string[] => [process.execPath, BIN, ...words, '--data', dir, '--json']
  if (role === 'site') {
    return {
      invite: tmtp('invite', '--ref', '{ref}', '--expires', '{expiresSeconds}'),
      send: tmtp('send', '--to', '{to}', '--subject', '{subject}', '--body', '{body}', '--ttl', '{ttlSeconds}'),
      replies: tmtp('replies'),
      'remove-member': tmtp('remove-member', '{ref}'),
      'send-file': tmtp('send', '--to', '{to}', '--subject', '{subject}', '--body', '{body}', '--ttl', '{ttlSeconds}', '--attach', '{file}')
    }
  }
  return {
    join: tmtp('join', '{token}'),
    inbox: tmtp('inbox'),
    reply: tmtp('reply', '{id}', '--site', '{site}', '--body', '{body}'),
    leave: tmtp('leave', '{site}'),
    block: tmtp('block', '{site}'),
    save: tmtp('save', '{id}', '{index}', '--site', '{site}', '--out', '{dir}')
  }
}

/** The environment of a `tmtp` child: without the kit's own loader (tsx) or data folder. */
function childEnv (): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  delete env.TMTP_DATA
  return env
}

export interface LaunchedTmtp {
  /** The node's TCP multiaddr, ending in /p2p/<PeerId>. */
  addr: string
  driver: DriverTemplates
  stop: () => Promise<void>
}

/** `tmtp init --role <role>` in `parent`/<role>, then `tmtp start`, until it serves. */
export async function launchTmtp (role: 'site' | 'member', parent: string): Promise<LaunchedTmtp> {
  const dir = join(parent, role)
  await initTmtp(role, dir)
  const node = await TmtpProcess.start(dir, { env: childEnv(), name: `tmtp ${role}` })
  const tcp = node.ready.listen.find(a => a.includes('/tcp/') && !a.includes('/ws'))
  if (tcp === undefined) {
    await node.stop()
    throw new Error(`tmtp ${role} listens on no TCP address: ${node.ready.listen.join(' ')}`)
  }
  return {
    addr: tcp.includes('/p2p/') ? tcp : `${tcp}/p2p/${node.ready.peerId}`,
    driver: tmtpDriver(role, dir),
    stop: async () => { await node.stop() }
  }
}

async function initTmtp (role: 'site' | 'member', dir: string): Promise<void> {
  const child = spawn(process.execPath, [BIN, 'init', '--role', role, '--name', `conformance ${role}`, '--data', dir, '--json'], { env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  })
  if (code !== 0) throw new Error(`tmtp init --role ${role} exited ${String(code)}: ${stderr.trim()}`)
}
