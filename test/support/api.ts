import assert from 'node:assert/strict'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { waitFor } from '../../src/cli/time.js'
import type { MemberNode, SiteNode, SiteNodeOptions } from '../../src/node/index.js'
import type { TestNet } from './nodes.js'

export const TOKEN = 'test-token-0123456789abcdef-secret'
export const AUTH = { authorization: `Bearer ${TOKEN}` }

export interface CallOptions {
  body?: unknown
  headers?: Record<string, string>
  /** false: no Authorization header. @default TOKEN */
  token?: string | false
  /** A raw payload (sent as is, with the given headers). */
  payload?: string | Buffer
  /** The test expects a 5xx on purpose (a stub node failing, an unreachable peer). */
  serverError?: boolean
}

/**
 * One request through fastify's inject. Every call asserts that the answer is not a 5xx:
 * bad input must never reach the "unexpected" path.
 */
export async function call (app: FastifyInstance, method: InjectOptions['method'], url: string, opts: CallOptions = {}): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...opts.headers }
  if (opts.token !== false) headers.authorization ??= `Bearer ${opts.token ?? TOKEN}`
  const res = await app.inject({
    method,
    url,
    headers,
    ...(opts.payload !== undefined ? { payload: opts.payload } : opts.body !== undefined ? { payload: opts.body as InjectOptions['payload'] } : {})
  })
  if (opts.serverError !== true) assert.ok(res.statusCode < 500, `${String(method)} ${url} answered ${res.statusCode}: ${res.body}`)
  return res
}

/** Asserts an error answer: status, stable code, and the `{ error: { code, message } }` shape. */
export function assertError (res: LightMyRequestResponse | { statusCode: number, body: string }, status: number, code: string): void {
  assert.equal(res.statusCode, status, `expected ${status} ${code}, got ${res.statusCode}: ${res.body}`)
  const body = JSON.parse(res.body) as { error?: { code?: unknown, message?: unknown } }
  assert.equal(body.error?.code, code, `expected code ${code}: ${res.body}`)
  assert.equal(typeof body.error?.message, 'string')
  assert.deepEqual(Object.keys(body), ['error'])
}

export function json<T = any> (res: { body: string }): T {
  return JSON.parse(res.body) as T
}

/** A site and a member device joined to it under user reference `ref`. */
export async function joinedPair (net: TestNet, ref = 'alice', siteOptions: Partial<SiteNodeOptions> = {}): Promise<{ site: SiteNode, member: MemberNode, memberId: string }> {
  const site = await net.site('site', siteOptions)
  const member = await net.member('member')
  const invite = await site.createInvite({ ref })
  const joined = await member.join(invite.token)
  return { site, member, memberId: joined.member }
}

/** Waits until a message's status has one device in `state`. */
export async function waitForState (site: SiteNode, id: string, state: string): Promise<void> {
  await waitFor(`message ${id} ${state}`, async () => (await site.message(id)).devices.some(d => d.state === state))
}
