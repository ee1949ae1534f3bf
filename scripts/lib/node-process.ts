import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { StorageFailure } from 'tmtp'
import { IpcChild } from './ipc-child.js'
import type { LatencySummary } from './latency.js'

/**
 * TMTP nodes in a child process (scripts/lib/node-host.ts), driven over its IPC channel: a
 * site, a member device, or many member devices. The crash tests, the fault campaign, the
 * benchmarks and the soak all use it, so that they can SIGKILL a real process, restart it
 * on the same data folder, and measure a node's own memory. The child runs the built
 * JavaScript on plain Node.js (`npm run build:harness`), no TypeScript loader; it exits on
 * its own when this process goes away.
 */

export type HostRole = 'site' | 'member' | 'members'

export interface HostOptions {
  /** The node's data folder; for `members`, the folder that holds one folder per member reference. */
  dataDir: string
  /** libp2p listen address (site, member). @default '/ip4/127.0.0.1/tcp/0' */
  listen?: string
  /** Site name or device name. */
  name?: string
  fsync?: boolean
  /** @default the library's: on */
  dht?: boolean
  /** Site: envelopes in flight per device. */
  window?: number
  /** Site: envelopes queued per device at most. */
  maxQueuePerDevice?: number
  /** Site: a send to more devices is a broadcast, fanned out in the background. */
  directMaxDevices?: number
  /** Site: devices a broadcast's fan-out seals per batch. */
  fanoutBatch?: number
  /** Deferred acks (spec 15.2): how long stored ids may wait for one ack, ms. @default the library's */
  ackDelayMs?: number
  /** How long `stop` waits for the nodes to stop before the process exits anyway. @default 15 s */
  stopGraceMs?: number
}

/** What the child announces once its nodes run: a site's or member's PeerId and addresses ('' and [] for `members`). */
export interface HostReady {
  pid: number
  peerId: string
  multiaddrs: string[]
}

/** One message of a member's inbox. */
export interface InboxEntry {
  id: string
  seq: number
  subject: string
}

/** What became of one send() of sendEach: its id, or the code it was refused with. */
export type SendOutcome = { subject: string, id: string } | { subject: string, code: string }

export interface SendArgs {
  /** Member references, round robin: message i goes to to[i % n] as its (i / n)-th, subject `${prefix}${i / n}`. */
  to: string[]
  perRecipient: number
  /** send() calls in flight; they reach the outbox in call order. */
  concurrency: number
  prefix: string
  /** Body size (the body starts with `message <k> `). @default 0: just that */
  bodyBytes?: number
  timeoutMs?: number
  /** Answer the ids, in call order. */
  ids?: boolean
}

export interface Sent {
  sent: number
  /** Times (ms, sub-ms resolution, comparable between processes on one machine) of the first send() call and of the last one's return. */
  startAt: number
  queuedAt: number
  ids?: string[]
}

/** A send to every member, as the site accepted it. */
export interface BroadcastSent {
  id: string
  devices: number
  fanout: boolean
  /** now() when send() was called and when it resolved, and the process's CPU time (all threads, µs) at the call. */
  startAt: number
  acceptedAt: number
  cpuAtStart: number
}

/** A broadcast whose every copy settled: when (now()), the process's CPU time then, and its counts. */
export interface BroadcastSettled {
  at: number
  cpu: number
  counts: Record<string, number>
}

/** Deliveries the site recorded ('delivered' events) since it started. */
export interface Delivered {
  delivered: number
  firstAt: number
  lastAt: number
}

/** W5's send → acknowledgement latencies at the site, in ms, and how the sends went. */
export interface LatencyResult extends LatencySummary {
  sent: number
  acknowledged: number
  failed: number
  /** Sends that left more than 5 ms after their tick. */
  lateTicks: number
  durationMs: number
  /** When each message's send() was called (`now()`, comparable across the processes of one machine), by message number. */
  sentAt: number[]
}

/** Members' inboxes against what was sent to them (src/cli/exactly-once.ts), summed. */
export interface HostCheck {
  members: number
  received: number
  lost: number
  duplicated: number
  unexpected: number
  /** 'message' events beyond one per message in the inbox. */
  extraEvents: number
  /** `ref:subject` of a few lost messages. */
  lostSamples: string[]
  /** `ref:subject` of every lost message, when `check` was asked for them. */
  missing?: string[]
}

/** The site at the moment `count` distinct peers had connected (or when the wait ran out). */
export interface PeersSnapshot {
  /** Whether `count` peers connected within the wait. */
  complete: boolean
  peers: number
  /** now() at that moment, and the process's CPU time (all threads, µs). */
  at: number
  cpu: number
  /** 'delivered' events by then since the last throughput (or the start). */
  delivered: number
}

type None = Record<string, never>

/** The commands a node process answers, by role, with their arguments and results. */
export interface HostCommands {
  /** Stops every node; the process exits after answering. */
  stop: { args: None, result: null }
  /** Memory of the process (after a GC when run with --expose-gc), and the nodes running in it. */
  rss: { args: None, result: { rss: number, heapUsed: number, heapTotal: number, external: number, nodes: number } }
  /** CPU time the process used so far, all its threads (LevelDB, libuv, GC) included, in µs. */
  cpu: { args: None, result: number }

  // site, member
  /** The node's storage failure, if a write failed (the node then refuses every write). */
  storageFailure: { args: None, result: StorageFailure | null }
  /** Aborts every libp2p connection of the node (their sockets close mid-stream); answers how many. */
  abortConnections: { args: None, result: number }
  connections: { args: None, result: number }

  // site
  /** One invite per member reference; their tokens. */
  invite: { args: { refs: string[] }, result: string[] }
  send: { args: SendArgs, result: Sent }
  /** One send() to `to` per subject, at most `concurrency` at a time; each one's outcome, refusals included. */
  sendEach: { args: { to: string, subjects: string[], concurrency: number }, result: SendOutcome[] }
  /** send, then waits for every acknowledgement: W1, W2. */
  throughput: { args: SendArgs & { timeoutMs: number }, result: Sent & Delivered & { elapsedMs: number } }
  /** `count` messages at a steady `rate` per second, round robin to `to`; send-to-acknowledgement latency: W5. */
  latency: { args: { to: string[], rate: number, count: number, bodyBytes: number, timeoutMs: number }, result: LatencyResult }
  waitDelivered: { args: { count: number, timeoutMs: number }, result: Delivered }
  delivered: { args: None, result: Delivered }
  /** Outbox entries, running delivery sessions and message statuses by state. */
  stats: { args: None, result: { queued: number, activeDeliveries: number, states: Record<string, number> } }
  /** How many of these messages are in each delivery state, over all their devices. */
  states: { args: { ids: string[] }, result: Record<string, number> }
  /** As `states`, but a message the site does not know counts as `unknown` instead of failing ('queued': still in the outbox). */
  locate: { args: { ids: string[] }, result: Record<string, number> }
  /** One message to every member (`all`), answered as soon as the site accepted it. */
  broadcast: { args: { subject: string, bodyBytes: number, report?: 'per-device' | 'once' }, result: BroadcastSent }
  /** Resolves once every copy of the broadcast settled (its `broadcast` event). */
  waitBroadcast: { args: { id: string, timeoutMs: number }, result: BroadcastSettled }
  /** A message's devices and its copies by state (`pending`: not sealed yet). */
  counts: { args: { id: string }, result: { total: number, counts: Record<string, number> } }
  /** Resolves when `count` distinct peers are connected or have connected since the call, with the site's CPU time at that moment. */
  watchPeers: { args: { count: number, timeoutMs: number }, result: PeersSnapshot }

  // member, members: `ref` names one of the members; it may be left out when the process hosts one
  /** members: starts a new member node per reference (in `<dataDir>/<ref>`); their PeerIds. */
  add: { args: { refs: string[] }, result: string[] }
  join: { args: { token: string, ref?: string }, result: { site: string, member: string } }
  /** Stops member nodes (all without `refs`); their data folders stay. */
  down: { args: { refs?: string[] }, result: null }
  /** Starts them again on their data folders (all stopped ones without `refs`). */
  up: { args: { refs?: string[] }, result: { startAt: number, startedAt: number } }
  /** Leaves the site (signed; the member then refuses it), then stops the node for good. */
  leave: { args: { site: string, ref?: string }, result: { site: string, notified: boolean, code?: string } }
  /** The inbox in sequence order. */
  inbox: { args: { ref?: string }, result: InboxEntry[] }
  /** Distinct messages in the inboxes: those stored when the process started, then each new one. */
  received: { args: None, result: number }
  /** Resolves once `received` reaches `count`. */
  waitReceived: { args: { count: number, timeoutMs: number }, result: number }
  /** Starts recording when each message whose subject starts with `prefix` arrives (its 'message' event), forgetting earlier ones. */
  watchArrivals: { args: { prefix: string }, result: null }
  /** The arrivals recorded since watchArrivals: [the subject after the prefix, as a number; `now()` at its 'message' event]. */
  arrivals: { args: None, result: Array<[number, number]> }
  /** Each listed member's inbox against the subjects sent to it; with `missing`, every lost `ref:subject` too. */
  check: { args: { expected: Record<string, string[]>, missing?: boolean }, result: HostCheck }
}

export type HostCommand = keyof HostCommands

const REPO = fileURLToPath(new URL('../..', import.meta.url))
/** The child program as `npm run build:harness` compiles it (tsconfig.harness.json). */
export const HOST_PROGRAM = fileURLToPath(new URL('../../build/scripts/lib/node-host.js', import.meta.url))

/** The compiled program's path; throws, saying how to build it, when it is missing. */
export function builtOrThrow (program: string): string {
  if (!existsSync(program)) throw new Error(`${program} is missing: run \`npm run build:harness\` (npm test, bench, soak and faults run it)`)
  return program
}

export interface NodeProcessOptions {
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  execArgv?: string[]
  /** How long start-up may take. @default 30 s */
  readyTimeoutMs?: number
  /** Keep this much of the child's last output for failure reports. @default 64 KiB */
  maxOutput?: number
}

export class NodeProcess extends IpcChild<HostReady> {
  readonly role: HostRole
  private info: HostReady = { pid: -1, peerId: '', multiaddrs: [] }

  private constructor (role: HostRole, child: ReturnType<typeof spawn>, maxOutput?: number) {
    super(role, child, maxOutput)
    this.role = role
  }

  /** Starts a node process and resolves once its nodes run. */
  static async start (role: HostRole, host: HostOptions, opts: NodeProcessOptions = {}): Promise<NodeProcess> {
    const node = new NodeProcess(role, spawnChild(builtOrThrow(HOST_PROGRAM), [role, JSON.stringify(host)], opts.execArgv), opts.maxOutput)
    node.info = await node.ready(opts.readyTimeoutMs ?? 30_000)
    return node
  }

  get peerId (): string {
    return this.info.peerId
  }

  get multiaddrs (): string[] {
    return this.info.multiaddrs
  }

  /** A command, typed by the table above. */
  async call<C extends HostCommand> (cmd: C, args: HostCommands[C]['args'], timeoutMs?: number): Promise<HostCommands[C]['result']> {
    return await this.request<HostCommands[C]['result']>(cmd, args, timeoutMs)
  }
}

/** Spawns a compiled harness program on plain node, in the repository, without the parent's NODE_OPTIONS (a test runner's loader). */
export function spawnChild (program: string, args: string[], execArgv: string[] = []): ReturnType<typeof spawn> {
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  return spawn(process.execPath, [...execArgv, program, ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
}
