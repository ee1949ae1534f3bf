import type { Command } from 'commander'
import { connect } from '../client.js'
import { fields } from '../output.js'
import { command, context, type CommonOptions } from './common.js'

export interface StatusResponse {
  role: 'site' | 'member'
  peerId: string
  listen: string[]
  connectedPeers: number | unknown[]
  /** Site only. */
  queued?: number
  delivered?: number
  activeDeliveries?: number
  states?: Record<string, number>
  /** Member only. */
  sites?: number | unknown[]
  unread?: number
}

function count (value: number | unknown[] | undefined): number | undefined {
  return Array.isArray(value) ? value.length : value
}

export function statusCommand (): Command {
  return command('status', 'show the running node: identity, addresses, peers, queues')
    .action(async (opts: CommonOptions) => {
      const { dir, out } = context(opts)
      const { client } = await connect(dir)
      const status = await client.get<StatusResponse>('/v1/status')
      out.result({ ...status, api: client.url, data: dir }, () => {
        const common: Array<[string, string | number | undefined]> = [
          ['role', status.role],
          ['peer id', status.peerId],
          ['listen', (status.listen ?? []).join(' ')],
          ['api', client.url],
          ['data', dir],
          ['peers', count(status.connectedPeers)]
        ]
        if (status.role === 'site') {
          const states = Object.entries(status.states ?? {}).filter(([, n]) => n > 0).map(([state, n]) => `${state} ${n}`).join(', ')
          return fields([
            ...common,
            ['queued', status.queued],
            ['delivered', status.delivered],
            ['sending to', status.activeDeliveries !== undefined ? `${status.activeDeliveries} devices` : undefined],
            ['states', states !== '' ? states : 'none']
          ])
        }
        return fields([...common, ['sites', count(status.sites)], ['unread', status.unread]])
      })
    })
}
