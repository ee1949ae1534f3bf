import { createReadStream, createWriteStream } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { loadConfig, readRuntime, readToken, RUNTIME_FILE, type Role, type TmtpConfig } from './config.js'
import { CliError, EXIT, type ExitCode } from './errors.js'
import type { ApiErrorCode } from '../api/index.js'
import { ErrorCode, type NodeErrorCode } from '../node/contract.js'

// The exit code of every code the local API answers, taken from the lists that define them:
// a code added to the library's or the API's list does not compile until it has one here.
const NODE_EXIT: Record<NodeErrorCode, ExitCode> = {
  INVALID_ARGUMENT: EXIT.USAGE,
  WRONG_ROLE: EXIT.USAGE,
  UNKNOWN_MEMBER: EXIT.NOT_FOUND,
  UNKNOWN_MESSAGE: EXIT.NOT_FOUND,
  UNKNOWN_SITE: EXIT.NOT_FOUND,
  UNKNOWN_GROUP: EXIT.NOT_FOUND,
  INVALID_GROUP_NAME: EXIT.USAGE,
  TOO_MANY_MEMBERS: EXIT.USAGE,
  GROUP_NAME_TAKEN: EXIT.USAGE,
  NO_DEVICES: EXIT.REFUSED,
  NO_KEY_EPOCH: EXIT.REFUSED,
  QUEUE_FULL: EXIT.REFUSED,
  UNREACHABLE: EXIT.REFUSED,
  UNKNOWN_ATTACHMENT: EXIT.NOT_FOUND,
  ATTACHMENT_TOO_LARGE: EXIT.USAGE,
  ATTACHMENTS_TOO_LARGE: EXIT.USAGE,
  ATTACHMENT_STORE_FULL: EXIT.REFUSED,
  ATTACHMENTS_NOT_SUPPORTED: EXIT.REFUSED,
  NOT_RUNNING: EXIT.NOT_RUNNING,
  IDENTITY_UNSAFE: EXIT.INTERNAL
}
const API_EXIT: Record<ApiErrorCode, ExitCode> = {
  INVALID_REQUEST: EXIT.USAGE,
  BODY_TOO_LARGE: EXIT.USAGE,
  LENGTH_REQUIRED: EXIT.USAGE,
  UNSUPPORTED_MEDIA_TYPE: EXIT.USAGE,
  UNAUTHORIZED: EXIT.AUTH,
  // the node's config.json does not name the host this command reaches it by (apiHosts)
  HOST_NOT_ALLOWED: EXIT.USAGE,
  NOT_FOUND: EXIT.NOT_FOUND,
  RATE_LIMITED: EXIT.REFUSED,
  INTERNAL: EXIT.INTERNAL
}
const EXIT_BY_CODE = new Map<string, ExitCode>([
  // a protocol code is a refusal by the protocol or a peer (its INTERNAL is the API's too, below)
  ...Object.values(ErrorCode).filter(code => typeof code === 'string').map(code => [code, EXIT.REFUSED] as const),
  ...Object.entries(NODE_EXIT),
  ...Object.entries(API_EXIT)
])

export type Query = Record<string, string | number | boolean | undefined>

export interface RequestOptions {
  body?: unknown
  headers?: Record<string, string>
  query?: Query
  /** Statuses that are not errors (besides 2xx): the parsed body is returned. */
  accept?: number[]
}

/** The exit code for an error answer of the local API: by its code, else (a code this command does not know) by the HTTP status. */
export function exitCodeFor (status: number, code: string): ExitCode {
  if (status === 401 || status === 403) return EXIT.AUTH
  const known = EXIT_BY_CODE.get(code)
  if (known !== undefined) return known
  if (status === 404) return EXIT.NOT_FOUND
  if (status === 400 || status === 413 || status === 415) return EXIT.USAGE
  if (status >= 500) return EXIT.INTERNAL
  return EXIT.REFUSED
}

/**
 * A client of a node's local HTTP API (bearer token). The token is a private field: it
 * never appears in an error, a log line or JSON.stringify(client).
 */
export class ApiClient {
  readonly url: string
  readonly timeoutMs: number
  readonly #token: string

  constructor (url: string, token: string, timeoutMs = 30_000) {
    this.url = url.replace(/\/+$/, '')
    this.#token = token
    this.timeoutMs = timeoutMs
  }

  async request<T = unknown> (method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = this.urlOf(path, opts.query ?? {})
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}`, accept: 'application/json', connection: 'close', ...opts.headers }
    if (opts.body !== undefined) headers['content-type'] = 'application/json'
    let response: Response
    try {
      response = await fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(this.timeoutMs)
      })
    } catch (err) {
      throw this.unreachable(method, path, err, this.timeoutMs)
    }
    const text = await response.text()
    const body = parseJson(text)
    if (response.ok || opts.accept?.includes(response.status) === true) return body as T
    throw this.failure(method, path, response.status, body)
  }

  private urlOf (path: string, query: Query): URL {
    const url = new URL(this.url + path)
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value))
    }
    return url
  }

  /** The CliError of an error answer (its JSON body parsed). */
  private failure (method: string, path: string, status: number, body: unknown): CliError {
    const error = (body as { error?: { code?: unknown, message?: unknown } } | undefined)?.error
    const code = typeof error?.code === 'string' ? error.code : `HTTP_${status}`
    let message = typeof error?.message === 'string' ? error.message : `${method} ${path}: HTTP ${status}`
    if (status === 401 || status === 403) {
      message = `the node refused the API token (${message}): api.token in the data folder does not match the running node's`
    }
    if (code === 'HOST_NOT_ALLOWED') message = `${message}: add ${new URL(this.url).hostname} to apiHosts in the node's config.json`
    return new CliError(exitCodeFor(status, code), code, message)
  }

  /**
   * POSTs a file as the body, streamed from disk with its size in Content-Length (an upload
   * of the site API), and answers the parsed JSON.
   */
  async upload<T = unknown> (path: string, file: string, query: Query, mediaType = 'application/octet-stream'): Promise<T> {
    const url = this.urlOf(path, query)
    const { size } = await stat(file)
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.#token}`, accept: 'application/json', 'content-type': mediaType, 'content-length': String(size), connection: 'close' },
        signal: AbortSignal.timeout(this.transferTimeoutMs)
      }, resolve)
      req.on('error', reject)
      pipeline(createReadStream(file), req).catch(reject)
    }).catch((err: unknown) => { throw this.unreachable('POST', path, err, this.transferTimeoutMs) })
    let text = ''
    for await (const piece of response) text += String(piece)
    const body = parseJson(text)
    if ((response.statusCode ?? 500) < 300) return body as T
    throw this.failure('POST', path, response.statusCode ?? 500, body)
  }

  /** GETs a file into `destination` (written whole, then renamed into place); answers its size. */
  async download (path: string, query: Query, destination: string): Promise<number> {
    const url = this.urlOf(path, query)
    let response: Response
    try {
      response = await fetch(url, { headers: { authorization: `Bearer ${this.#token}`, connection: 'close' }, signal: AbortSignal.timeout(this.transferTimeoutMs) })
    } catch (err) {
      throw this.unreachable('GET', path, err, this.transferTimeoutMs)
    }
    if (!response.ok || response.body === null) throw this.failure('GET', path, response.status, parseJson(await response.text()))
    const part = `${destination}.part`
    try {
      await pipeline(response.body, createWriteStream(part, { flags: 'wx', mode: 0o600 }))
      await rename(part, destination)
    } catch (err) {
      await rm(part, { force: true })
      throw err
    }
    return (await stat(destination)).size
  }

  /** A transfer waits for the node to fetch or take in a whole file: far longer than a request. */
  private get transferTimeoutMs (): number {
    return this.timeoutMs * 20
  }

  /** The CliError of a request that got no answer: timed out, or the node is not running. */
  private unreachable (method: string, path: string, err: unknown, timeoutMs: number): CliError {
    if ((err as Error).name === 'TimeoutError') return new CliError(EXIT.INTERNAL, 'TIMEOUT', `the node's API at ${this.url} did not answer ${method} ${path} within ${timeoutMs / 1000} s`, { cause: err })
    const cause = err as { cause?: { code?: string }, code?: string }
    return new CliError(EXIT.NOT_RUNNING, 'NOT_RUNNING', `the node's API at ${this.url} does not answer (${cause.cause?.code ?? cause.code ?? (err as Error).message}): is "tmtp start" running?`, { cause: err })
  }

  async get<T = unknown> (path: string, query?: Query): Promise<T> {
    return await this.request<T>('GET', path, { query })
  }

  async post<T = unknown> (path: string, body: unknown, headers?: Record<string, string>): Promise<T> {
    return await this.request<T>('POST', path, { body, headers })
  }

  async delete<T = unknown> (path: string): Promise<T> {
    return await this.request<T>('DELETE', path)
  }

  toJSON (): { url: string } {
    return { url: this.url }
  }
}

export interface Connection {
  dir: string
  config: TmtpConfig
  client: ApiClient
}

/**
 * The running node of a data folder: its config, and a client of its API (URL from api.json,
 * token from api.token). `role` is the role the command needs.
 */
export async function connect (dir: string, role?: Role, command?: string): Promise<Connection> {
  const config = await loadConfig(dir)
  if (role !== undefined && config.role !== role) {
    throw new CliError(EXIT.USAGE, 'WRONG_ROLE', `${command !== undefined ? `"tmtp ${command}"` : 'this command'} needs a ${role} node, but ${dir} is a ${config.role} node`)
  }
  const runtime = await readRuntime(dir)
  if (runtime === undefined) {
    throw new CliError(EXIT.NOT_RUNNING, 'NOT_RUNNING', `the ${config.role} node of ${dir} is not running (no live ${join(dir, RUNTIME_FILE)}): start it with "tmtp start --data ${dir}"`)
  }
  return { dir, config, client: new ApiClient(runtime.url, await readToken(dir)) }
}

function parseJson (text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Encodes one path segment (a member reference, a PeerId, a message id). */
export function seg (value: string): string {
  return encodeURIComponent(value)
}
