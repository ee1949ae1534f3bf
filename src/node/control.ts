import { peerIdFromString as libp2pPeerIdFromString } from '@libp2p/peer-id'
import { NodeError } from '../util/index.js'
import { FramedStream } from '../delivery/index.js'
import { CONTROL_STREAM_TIMEOUT_MS, ErrorCode, isTmtpError, MAX_CONTROL_FRAME_SIZE, RECEIPT_TIMEOUT_MS, TmtpError } from '../protocol/index.js'
import type { TmtpLibp2p } from './libp2p.js'
import type { Discovery } from '../discovery/index.js'
import type { Connection, Logger, PeerId, Stream } from '@libp2p/interface'

/** The remote peer of a connection as PeerId bytes (always Ed25519 for TMTP nodes). */
export function remoteBytes (connection: Connection): Uint8Array {
  return connection.remotePeer.toMultihash().bytes
}

export interface ControlOptions {
  log: Logger
  /** Runs before the frame is read (the join rate limit); may throw a TmtpError. */
  admit?: () => void
  /** Called when the request is refused or fails with an error code (the peer may be penalised for it). */
  onRefused?: (code: ErrorCode) => void
}

/**
 * Serves one request/response control stream (join, leave: spec "Stream protocols"): one
 * frame in, one frame out, within CONTROL_STREAM_TIMEOUT_MS. `answerError` turns a TmtpError
 * into the protocol's answer with its code.
 */
export async function serveControl (
  stream: Stream,
  handle: (frame: Uint8Array) => Promise<Uint8Array>,
  answerError: (err: TmtpError) => Uint8Array,
  opts: ControlOptions
): Promise<void> {
  const { log, admit, onRefused } = opts
  const framed = new FramedStream(stream, MAX_CONTROL_FRAME_SIZE)
  const timer = setTimeout(() => framed.abort(new TmtpError(ErrorCode.TIMEOUT, 'control exchange timed out')), CONTROL_STREAM_TIMEOUT_MS)
  try {
    let answer: Uint8Array
    try {
      admit?.()
      answer = await handle(await framed.readOne())
    } catch (err) {
      if (!isTmtpError(err)) throw err
      log('refused %s request: %s %s', stream.protocol, err.code, err.message)
      onRefused?.(err.code)
      answer = answerError(err)
    }
    await framed.write([answer])
    await framed.close()
  } catch (err) {
    log.error('%s stream failed: %e', stream.protocol, err)
    if (isTmtpError(err)) onRefused?.(err.code)
    framed.abort(err as Error)
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Opens a stream to a peer at the addresses known for it; if that fails and the node runs
 * the DHT, looks the peer's current addresses up and tries once more (spec: "Lookups").
 */
export async function dialWithLookup (libp2p: TmtpLibp2p, discovery: Discovery | undefined, peer: PeerId, protocol: string): Promise<Stream> {
  return await withLookup(libp2p, discovery, peer, async () => await libp2p.dialProtocol(peer, protocol, { signal: AbortSignal.timeout(RECEIPT_TIMEOUT_MS) }))
}

/** Runs `dial`; if it fails and the node runs the DHT, looks the peer up and runs it once more. */
export async function withLookup<T> (libp2p: TmtpLibp2p, discovery: Discovery | undefined, peer: PeerId, dial: () => Promise<T>): Promise<T> {
  try {
    return await dial()
  } catch (err) {
    if (discovery === undefined) throw err
    // the peer may connect to us while we look it up: then the lookup is moot
    const connected = new AbortController()
    const onConnect = (event: CustomEvent<PeerId>): void => { if (event.detail.equals(peer)) connected.abort() }
    libp2p.addEventListener('peer:connect', onConnect)
    try {
      if (!await discovery.locate(peer, connected.signal) && !connected.signal.aborted) throw err
    } finally {
      libp2p.removeEventListener('peer:connect', onConnect)
    }
    return await dial()
  }
}

/** Opens a control stream to `peer`, writes one frame and reads the one answer. */
export async function requestControl (libp2p: TmtpLibp2p, discovery: Discovery | undefined, peer: string, protocol: string, frame: Uint8Array): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(CONTROL_STREAM_TIMEOUT_MS)
  let stream: Stream
  try {
    stream = await dialWithLookup(libp2p, discovery, libp2pPeerIdFromString(peer), protocol)
  } catch (err) {
    throw new NodeError('UNREACHABLE', `cannot reach ${peer}: ${(err as Error).message}`)
  }
  const framed = new FramedStream(stream, MAX_CONTROL_FRAME_SIZE)
  const onAbort = (): void => framed.abort(new TmtpError(ErrorCode.TIMEOUT, `${protocol} exchange timed out`))
  signal.addEventListener('abort', onAbort)
  try {
    await framed.write([frame])
    const answer = await framed.readOne()
    await framed.close()
    return answer
  } catch (err) {
    framed.abort(err as Error)
    if (signal.aborted) throw new TmtpError(ErrorCode.TIMEOUT, `${protocol} exchange timed out`)
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
