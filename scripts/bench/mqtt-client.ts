/**
 * The Mosquitto peer's clients, in a bench child process (worker.ts role `mqtt`): MQTT 3.1.1
 * with mqtt.js, QoS 1 and persistent sessions (clean: false, fixed client ids), the same 1 KiB
 * bodies as TMTP. Loaded only by that role, so that TMTP's children never load mqtt.js.
 */
import mqtt, { type MqttClient } from 'mqtt'
import { concurrently, now, waitFor } from '../../src/cli/time.js'

type Handler = (args: any) => Promise<unknown>

function payload (bytes: number, i: number): Buffer {
  const head = `${i} `
  return Buffer.from(head + 'x'.repeat(Math.max(0, bytes - head.length)))
}

/** Connects; `before` runs before the session can deliver anything (a resumed session delivers at once). */
async function connect (url: string, clientId: string, before?: (client: MqttClient) => void): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId, clean: false, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 30_000, keepalive: 60 })
  before?.(client)
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => { resolve() })
    client.once('error', reject)
  })
  return client
}

export async function mqttRole (): Promise<Record<string, Handler>> {
  const subscribers = new Map<string, MqttClient>()
  let received = 0
  let duplicates = 0
  let lastAt = 0
  const seen = new Map<string, Set<number>>()
  let publisher: MqttClient | undefined

  const attach = (id: string, client: MqttClient): void => {
    client.on('message', (topic, message) => {
      const i = Number(message.subarray(0, message.indexOf(32)).toString())
      // per session and topic: sessions sharing a topic each receive every message once
      const key = `${id} ${topic}`
      let set = seen.get(key)
      if (set === undefined) {
        set = new Set()
        seen.set(key, set)
      }
      if (set.has(i)) duplicates++
      else set.add(i)
      received++
      lastAt = now()
    })
    subscribers.set(id, client)
  }
  const each = async (ids: string[], limit: number, fn: (id: string) => Promise<void>): Promise<void> => {
    await concurrently(ids.length, limit, async i => { await fn(ids[i]) })
  }

  return {
    /** Connects a persistent session per id and subscribes it at QoS 1 to its topic `t/<id>` (and to `t/<shared>`, which all of them share, if given). */
    subscribe: async ({ url, ids, shared }: { url: string, ids: string[], shared?: string }) => {
      await each(ids, 32, async id => {
        const client = await connect(url, `sub-${id}`, c => { attach(id, c) })
        await client.subscribeAsync([`t/${id}`, ...(shared === undefined ? [] : [`t/${shared}`])], { qos: 1 })
      })
      return null
    },
    /** Closes every subscriber (its session and queue stay at the broker). */
    disconnect: async () => {
      await Promise.all([...subscribers.values()].map(async c => { await c.endAsync() }))
      subscribers.clear()
      return null
    },
    /** Reconnects every session: the broker then delivers what it queued. */
    reconnect: async ({ url, ids }: { url: string, ids: string[] }) => {
      const startAt = now()
      await each(ids, 64, async id => { await connect(url, `sub-${id}`, c => { attach(id, c) }) })
      return { startAt }
    },
    reset: async () => {
      received = 0
      duplicates = 0
      lastAt = 0
      seen.clear()
      return null
    },
    /**
     * QoS 1 publishes, round robin over `ids`' topics, at most `inflight` unacknowledged by the
     * broker; the bodies are numbered per topic from `base` (so that later calls are not counted as duplicates).
     */
    publish: async (args: { url: string, ids: string[], perTopic: number, base?: number, bodyBytes: number, inflight: number, timeoutMs: number }) => {
      publisher ??= await connect(args.url, `pub-${process.pid}`)
      const client = publisher
      const total = args.ids.length * args.perTopic
      const deadline = Date.now() + args.timeoutMs
      let published = 0
      const startAt = now()
      await concurrently(total, args.inflight, async i => {
        await client.publishAsync(`t/${args.ids[i % args.ids.length]}`, payload(args.bodyBytes, (args.base ?? 0) + Math.floor(i / args.ids.length)), { qos: 1 })
        published++
      }, () => Date.now() >= deadline)
      return { startAt, publishedAt: now(), published }
    },
    waitReceived: async ({ count, timeoutMs }: { count: number, timeoutMs: number }) => {
      await waitFor(() => `${count} messages (${received} received)`, () => received >= count, timeoutMs, 5)
      return { received, duplicates, lastAt }
    },
    counts: async () => ({ received, duplicates, lastAt, distinct: [...seen.values()].reduce((a, s) => a + s.size, 0), connected: [...subscribers.values()].filter(c => c.connected).length }),
    stop: async () => {
      await Promise.all([...subscribers.values(), ...(publisher === undefined ? [] : [publisher])].map(async c => { await c.endAsync(true) }))
      return null
    }
  }
}
