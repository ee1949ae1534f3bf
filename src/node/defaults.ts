/**
 * Every configurable default of a TMTP node, in one place. The README's configuration
 * reference and docs list these values; change them together. (The HTTP APIs' own defaults,
 * the webhook's and the body limit, live beside the API in src/api; the DHT publisher's in
 * src/discovery/constants.ts.)
 */
export const DEFAULTS = {
  /** A site's display name when its operator gives none. */
  siteName: 'TMTP site',
  /**
   * Which addresses of other peers a node stores and dials (src/discovery/address-scope.ts):
   * all of them, so that one machine and private networks work out of the box; a site on the
   * Internet should set 'public' (spec 16.8).
   */
  addressScope: 'all' as const,
  /** Listen on loopback only unless told otherwise: a node is reachable only where its operator says. */
  listen: ['/ip4/127.0.0.1/tcp/0'],
  /** A site listens on WebSockets too: members in a browser tab reach it there (a tab has no TCP). */
  siteListen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'],
  /**
   * Envelopes a sender keeps unacknowledged on one stream (spec 15.2, "/tmtp/deliver/1.0.0"; at
   * most MAX_IN_FLIGHT). A site's streams hold 256 each at least and the rest from a budget they
   * share (src/delivery/site-outbox.ts, SHARED_IN_FLIGHT), which bounds the frames it holds.
   */
  window: 1024,
  /** Retry delays: exponential from 1 s with full jitter, capped at 5 minutes (spec 15.2, "Retry"). */
  retryBaseMs: 1_000,
  retryCapMs: 5 * 60_000,
  /** Default time to live of a message sent without one: 7 days. */
  ttlMs: 7 * 24 * 3600_000,
  /** Longest time to live a send may ask for: 30 days. */
  maxTtlMs: 30 * 24 * 3600_000,
  /** Default lifetime of an invite: 7 days. */
  inviteTtlMs: 7 * 24 * 3600_000,
  /** Age after which a site starts a new key epoch for a device: 7 days (spec: "Key epochs"). */
  epochAgeMs: 7 * 24 * 3600_000,
  /** Join attempts accepted per peer per minute (spec 19, "Limits"). */
  joinsPerMinute: 10,
  /**
   * Join attempts per IP address (IPv6: per /64) per minute, all its PeerIds together: PeerIds
   * cost nothing, addresses do. Room for a class joining from one school network at once.
   */
  joinsPerMinutePerIp: 100,
  /**
   * Connections from one IP address (IPv6: one /64) at a time, at a site: bounds what one host
   * can hold open with ever-new PeerIds, and leaves room for the devices of a whole school or
   * office behind one NAT (each member device keeps one connection to its site).
   */
  maxConnectionsPerIp: 2048,
  /** Inbound streams per connection per TMTP protocol; libp2p resets the streams beyond it. */
  maxInboundStreams: 8,
  /**
   * Envelopes queued per member device at the site. A send finds a device's queue full: that
   * device's copy is dropped (state dropped, code QUEUE_FULL), or the send fails with
   * QUEUE_FULL when every recipient device is full.
   */
  maxQueuePerDevice: 100_000,
  /** Streams a peer may have refused per minute (NOT_MEMBER, BAD_FRAME, …); past it the peer is banned. */
  refusalsPerMinute: 20,
  /** How long a banned peer is disconnected and its connections refused: 10 minutes. */
  banMs: 10 * 60_000,
  /** A deliver or post stream idle this long is closed (spec: "Timeouts"; at most 60 s). */
  streamIdleMs: 60_000,
  /**
   * Address records a DHT server (site, bootstrap node) keeps for other nodes. Each node stores
   * its record at the 20 servers closest to it, so a server holds about 20 × nodes / servers
   * records: 5,000 serves 250 nodes per server (25,000 nodes with 100 servers), for ~4 MB of
   * memory when full (a typical record is ~250 bytes, ~800 with the server's bookkeeping). When
   * full, records under new keys are refused (spec 16.8): on a DHT of few servers, a site with
   * more member devices than this should raise it, since every server then holds every record.
   */
  dhtMaxRecords: 5_000,
  /**
   * Bytes of those records (keys and values): 4 MiB holds 5,000 typical records, or ~490 of the
   * largest an address record can be (8.4 KB), and keeps a flood of large records to a few MB.
   */
  dhtMaxBytes: 4 * 1024 * 1024,
  /**
   * PUT_VALUE requests a DHT server accepts per peer a minute, before it verifies them. A node
   * publishes its record every 30 minutes and when its addresses change, and nodes that looked a
   * record up correct servers that answered a stale one: 60 a minute is far above that.
   */
  dhtPutsPerMinute: 60,
  /**
   * The same per IP address (IPv6: per /64): all peers behind one address together, so a flood
   * from fresh PeerIds is bounded too. Ten times the per-peer limit leaves room for many
   * devices behind one NAT.
   */
  dhtPutsPerMinutePerIp: 600,
  /**
   * Replies a member device may post per minute, and a member with all its devices: a person
   * answering does not come near them, a device flooding the site is held back (its replies
   * wait on the device and go later: RATE_LIMITED).
   */
  repliesPerMinute: 60,
  repliesPerMinutePerMember: 120,
  /** Bytes of one member's replies the site keeps: 16 MiB, a few hundred long replies; past it, RATE_LIMITED until some are collected or age out. */
  replyBytesPerMember: 16 * 1024 * 1024,
  /** Replies the backend never collects are deleted after 30 days, freeing their member's quota. */
  replyRetentionMs: 30 * 24 * 3600_000,
  /** An attachment is at most 25 MiB: documents, course material, a short video; larger files belong on a web page. */
  maxAttachmentBytes: 25 * 1024 * 1024,
  /** A message's attachments are at most 100 MiB together (what a device is asked to fetch for one message). */
  maxMessageAttachmentBytes: 100 * 1024 * 1024,
  /**
   * The site's attachments take at most 10 GiB of disk together (its blobs/ folder, sealed, and
   * the uploads under way): an API client or a runaway backend cannot fill the disk. Room for
   * a hundred full messages waiting for their devices.
   */
  maxStoredAttachmentBytes: 10 * 1024 ** 3,
  /**
   * A send may list an upload for an hour after it was taken in: time for the backend to send
   * the messages that carry it. After that, and once every device it was sent to fetched it or
   * its messages expired, the site deletes it.
   */
  attachmentHoldMs: 3600_000,
  /** A member device fetches an attachment of up to 5 MiB at once when its message arrives; a larger one when the member asks. */
  autoFetchBytes: 5 * 1024 * 1024,
  /**
   * Deferred acks are on, at the spec's bound (250 ms, spec 15.2): a batch stored within 250 ms
   * of the stream's last ack waits for one ack with whatever else arrives meanwhile (at most 32
   * ids held), so a device receiving a steady trickle signs, and its sender verifies, a few acks
   * a second instead of one per message; the first message after a quiet stream is
   * acknowledged at once. The price: a sender learns of such deliveries up to 250 ms later (a
   * site's 'delivered' events and webhooks); the message itself reaches the member's inbox no
   * later. W5 at 1,000 messages/s to 100 members: the site's CPU per message -16 to -27 %, the
   * member's -0 to -18 %, inbox latency unchanged; W1: +17 to +33 % messages/s, a member's
   * batches under 32 ids now sharing an ack (docs/BENCHMARKS.md row 25).
   */
  ackDelayMs: 250,
  /**
   * Power-loss-safe writes: every group-committed batch is fsynced before anything in it is
   * acknowledged, as a signed ack states (spec 3, "stored durably"). Off, a process crash still
   * loses nothing, a power loss may lose the last writes (and a device may have acknowledged
   * them); nonces stay unique either way (spec 11.4).
   */
  fsync: true,
  /**
   * A member device's LevelDB memtable, 16 MiB against LevelDB's 4: its inbox only grows, and
   * each batch looks its new ids up first, so with 4 MiB those lookups went through more level-0
   * tables, which were merged again and again (W1: the member's CPU per message -10 to -20 %,
   * docs/BENCHMARKS.md rows 18-19). The memtable holds what was written since its last flush:
   * a device's memory grows with what it receives, up to twice this while one is written out.
   * The site keeps LevelDB's default: it gained nothing measurable.
   */
  memberMemtableBytes: 16 * 1024 * 1024,
  /**
   * Connection limits. Sites serve many members; a member device keeps few connections.
   *
   * Liveness: a member device pings its connections (libp2p's connection monitor, every
   * minute, as MQTT clients do by default) and drops one whose ping fails, then dials its
   * site again. A site pings none: libp2p's monitor pings every connection in the same
   * instant, and at a site's thousands of devices that burst cost 200–270 ms of CPU per second
   * with 1,000 idle devices connected (pinging and being pinged every 10 s, the default) and
   * stalled the site past its devices' dial timeouts beyond ~2,000. A site instead keeps one
   * connection per peer: a device's new connection replaces the older ones (site-node.ts), so a
   * connection that died silently is not used once its device comes back. Yamux's own
   * keep-alive (every 30 s, both ends) keeps NAT mappings open.
   */
  site: { maxConnections: 10_000, inboundConnectionThreshold: 1_000, maxIncomingPendingConnections: 256 },
  member: { maxConnections: 32, inboundConnectionThreshold: 16, maxIncomingPendingConnections: 16, pingIntervalMs: 60_000 },
  /** A member device trims its connections back to its bound this often (libp2p prunes only on open). */
  connectionTrimIntervalMs: 10_000,
  /** A member checks its joined sites' reachability, and resends unacknowledged replies, this often. */
  reconnectIntervalMs: 60_000,
  /**
   * A send to at most this many devices is sealed in the send (one write, the answer after it);
   * a send to more is a broadcast: accepted at once, its recipients written in pages, its copies
   * sealed in the background. Room for a member's devices and small groups, so that the common
   * send pays nothing for the fan-out's bookkeeping.
   */
  directMaxDevices: 100,
  /**
   * Devices a broadcast's fan-out seals per batch, in one lock and one write: large enough that a
   * batch's fsync and reads are shared, small enough that a send waits for at most one batch
   * (some tens of ms) behind a broadcast.
   */
  fanoutBatch: 256,
  /**
   * Device states (sequence number, key epoch, queue length) the site keeps in memory, the least
   * recently used going first: a broadcast to more devices loads each again from the store.
   */
  deviceCacheSize: 10_000,
  /** The site scans its outbox for expired messages this often. */
  expirySweepMs: 60_000
} as const
