/**
 * A child program that runs one bootstrap node (a DHT server and nothing else), so that a test
 * can measure the node's memory apart from the test runner's:
 *
 *   node --expose-gc --import tsx test/support/dht-target.ts '<{ dataDir, limits? } as JSON>'
 *
 * It sends `{ peerId, multiaddrs }` over IPC once the node runs, answers `'rss'` with the
 * process's memory (process.memoryUsage(), in bytes) after a full GC, stops the node and exits on `'stop'`, and exits
 * when its parent goes away.
 */
import '../../src/polyfill.js'
import { createBootstrapNode } from '../../src/node/index.js'

const { dataDir, limits } = JSON.parse(process.argv[2]) as { dataDir: string, limits?: Record<string, number> }
const node = await createBootstrapNode({ dataDir, limits })
process.on('disconnect', () => { node.stop().finally(() => process.exit(0)) })
process.on('message', message => {
  if (message === 'rss') {
    fullGc().then(() => process.send?.(process.memoryUsage()), () => {})
  } else if (message === 'stop') {
    node.stop().finally(() => process.exit(0))
  }
})
process.send?.({ peerId: node.peerId, multiaddrs: node.multiaddrs() })

/** GCs with turns of the event loop between them, so that what the first one found dead (Buffers' memory among it) is freed too. */
async function fullGc (): Promise<void> {
  for (let i = 0; i < 4; i++) {
    globalThis.gc?.()
    await new Promise(resolve => setImmediate(resolve))
  }
}
