import type { Command } from 'commander'
import { connect } from '../client.js'
import { fields, formatTime } from '../output.js'
import { command, context, type CommonOptions } from './common.js'
import type { MemberStatusResponse, SiteStatusResponse } from '../../api/index.js'

export function statusCommand (): Command {
  return command('status', 'show the running node: identity, addresses, peers, queues')
    .action(async (opts: CommonOptions) => {
      const { dir, out } = context(opts)
      const { client } = await connect(dir)
      const status = await client.get<SiteStatusResponse | MemberStatusResponse>('/v1/status')
      out.result({ ...status, api: client.url, data: dir }, () => {
        const common: Array<[string, string | number | undefined]> = [
          ['role', status.role],
          ['peer id', status.peerId],
          ['listen', status.listen.join(' ')],
          ['api', client.url],
          ['data', dir],
          ['peers', status.connectedPeers],
          ['storage', status.storageFailure === undefined ? undefined : `FAILED at ${formatTime(status.storageFailure.at)}, every write refused (${status.storageFailure.message}): restart the node once the disk has room`]
        ]
        if (status.role === 'site') {
          const states = Object.entries(status.states).filter(([, n]) => n > 0).map(([state, n]) => `${state} ${n}`).join(', ')
          return fields([
            ...common,
            ['queued', status.queued],
            ['delivered', status.delivered],
            ['sending to', `${status.activeDeliveries} devices`],
            ['states', states !== '' ? states : 'none']
          ])
        }
        return fields([...common, ['sites', status.sites], ['unread', status.unread]])
      })
    })
}
