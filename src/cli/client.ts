import { join } from 'node:path'
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
  NOT_RUNNING: EXIT.NOT_RUNNING,
  IDENTITY_UNSAFE: EXIT.INTERNAL
}
const API_EXIT: Record<ApiErrorCode, ExitCode> = {
  INVALID_REQUEST: EXIT.USAGE,
  BODY_TOO_LARGE: EXIT.USAGE,
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
    const url = new URL(this.url + path)
    for (const [name, value] of Object.entries(opts.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value))
    }
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
      const cause = (err as { cause?: { code?: string } }).cause
      if ((err as Error).name === 'TimeoutError') {
        throw new CliError(EXIT.INTERNAL, 'TIMEOUT', `the node's API at ${this.url} did not answer ${method} ${path} within ${this.timeoutMs / 1000} s`, { cause: err })
      }
      throw new CliError(EXIT.NOT_RUNNING, 'NOT_RUNNING', `the node's API at ${this.url} does not answer (${cause?.code ?? (err as Error).message}): is "tmtp start" running?`, { cause: err })
    }
    const text = await response.text()
    let body: unknown
    try {
      body = text === '' ? undefined : JSON.parse(text)
    } catch {
      body = undefined
    }
    if (response.ok || opts.accept?.includes(response.status) === true) return body as T
    const error = (body as { error?: { code?: unknown, message?: unknown } } | undefined)?.error
    const code = typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`
    let message = typeof error?.message === 'string' ? error.message : `${method} ${path}: HTTP ${response.status}`
    if (response.status === 401 || response.status === 403) {
      message = `the node refused the API token (${message}): api.token in the data folder does not match the running node's`
    }
    if (code === 'HOST_NOT_ALLOWED') message = `${message}: add ${url.hostname} to apiHosts in the node's config.json`
    throw new CliError(exitCodeFor(response.status, code), code, message)
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

/** Encodes one path segment (a member reference, a PeerId, a message id). */
export function seg (value: string): string {
  return encodeURIComponent(value)
}
