import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { WebhookDispatcher } from './webhooks.js'
import { SETTLED_STATES, type SessionEvent, type SiteEvent, type SiteNode } from '../node/index.js'

/** Latency buckets in seconds: from a LAN round trip to a device that was offline for a day. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400]

/**
 * The site node's Prometheus metrics, in a registry of their own (not prom-client's global
 * one), so that several nodes in one process do not clash. Counters follow the node's
 * events from the moment the API is created; gauges are read at each scrape.
 */
export class SiteMetrics {
  readonly registry = new Registry()
  private readonly node: SiteNode
  private readonly webhooks?: WebhookDispatcher
  private readonly queueDepth: Gauge
  private readonly activeDeliveries: Gauge
  private readonly deviceStates: Gauge<'state'>
  private readonly connectedPeers: Gauge
  private readonly deliveries: Counter<'state'>
  private readonly retries: Counter
  private readonly expiries: Counter
  private readonly latency: Histogram
  private readonly replies: Counter
  private readonly webhookPending?: Gauge
  private readonly webhookEvents?: Counter<'result'>
  private readonly onDelivery = (event: CustomEvent<SiteEvent>): void => { this.delivery(event.detail) }
  private readonly onSession = (event: CustomEvent<SessionEvent>): void => { if (!event.detail.ok) this.retries.inc() }
  private readonly onReply = (): void => { this.replies.inc() }

  constructor (node: SiteNode, webhooks?: WebhookDispatcher) {
    this.node = node
    this.webhooks = webhooks
    const registers = [this.registry]
    this.queueDepth = new Gauge({ name: 'tmtp_outbox_queue_depth', help: 'Envelopes waiting in the outbox (one per message and device)', registers })
    this.activeDeliveries = new Gauge({ name: 'tmtp_active_deliveries', help: 'Delivery sessions running now', registers })
    this.deviceStates = new Gauge({ name: 'tmtp_message_devices', help: 'Stored per-device message statuses by state', labelNames: ['state'], registers })
    this.connectedPeers = new Gauge({ name: 'tmtp_connected_peers', help: 'Peers with an open libp2p connection (member devices and DHT peers)', registers })
    this.deliveries = new Counter({ name: 'tmtp_deliveries_total', help: 'Per-device deliveries that reached a final state, by state', labelNames: ['state'], registers })
    this.retries = new Counter({ name: 'tmtp_delivery_retries_total', help: 'Delivery sessions that ended with an error (the device is retried later)', registers })
    this.expiries = new Counter({ name: 'tmtp_expiries_total', help: 'Per-device deliveries that expired before the device acknowledged them', registers })
    this.latency = new Histogram({ name: 'tmtp_delivery_latency_seconds', help: 'Time from send to the device\'s acknowledgement', buckets: LATENCY_BUCKETS, registers })
    this.replies = new Counter({ name: 'tmtp_replies_received_total', help: 'Replies received from member devices', registers })
    // every settled state a 'delivery' event reports is exported from the start, at zero
    for (const state of SETTLED_STATES) this.deliveries.inc({ state }, 0)
    if (webhooks !== undefined) {
      this.webhookPending = new Gauge({ name: 'tmtp_webhook_pending', help: 'Webhook events in the journal, waiting to be sent', registers })
      this.webhookEvents = new Counter({ name: 'tmtp_webhook_events_total', help: 'Webhook events by outcome: sent, failed (one failed attempt), abandoned (too many attempts or too old)', labelNames: ['result'], registers })
    }
    node.addEventListener('delivery', this.onDelivery)
    node.addEventListener('session', this.onSession)
    node.addEventListener('reply', this.onReply)
  }

  private delivery (event: SiteEvent): void {
    this.deliveries.inc({ state: event.type })
    if (event.type === 'expired') this.expiries.inc()
    if (event.type === 'delivered') this.latency.observe(Math.max(0, event.at - event.created) / 1000)
  }

  get contentType (): string {
    return this.registry.contentType
  }

  /** The text exposition format, with gauges read now. */
  async render (): Promise<string> {
    const stats = await this.node.stats()
    this.queueDepth.set(stats.queued)
    this.activeDeliveries.set(stats.activeDeliveries)
    for (const [state, count] of Object.entries(stats.states)) this.deviceStates.set({ state }, count)
    this.connectedPeers.set(this.node.libp2p.getPeers().length)
    if (this.webhooks !== undefined) {
      const w = await this.webhooks.stats()
      this.webhookPending?.set(w.pending)
      this.webhookEvents?.reset()
      this.webhookEvents?.inc({ result: 'sent' }, w.sent)
      this.webhookEvents?.inc({ result: 'failed' }, w.failedAttempts)
      this.webhookEvents?.inc({ result: 'abandoned' }, w.abandoned)
    }
    // libp2p's own metrics (connections, streams, DHT) follow TMTP's in the same exposition
    return `${await this.registry.metrics()}\n${await this.node.libp2pMetrics.metrics()}`
  }

  /** Stops following the node's events. */
  stop (): void {
    this.node.removeEventListener('delivery', this.onDelivery)
    this.node.removeEventListener('session', this.onSession)
    this.node.removeEventListener('reply', this.onReply)
  }
}
