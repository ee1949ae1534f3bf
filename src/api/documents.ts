import { TypedEventEmitter } from 'main-event'
import { createMemberApi } from './member-api.js'
import { openApiDocument, type OpenApiDocument } from './openapi.js'
import { createSiteApi } from './site-api.js'
import { type MemberNode, type SiteNode } from '../node/index.js'

/** Where `npm run openapi` writes the documents, relative to the repository. */
export const DOCUMENT_FILES = { site: 'docs/openapi.json', member: 'docs/openapi-member.json' } as const

/**
 * A node that is never called: building an API only registers routes and event listeners,
 * so the documents can be generated without starting libp2p or opening a database.
 */
function idleNode<T> (): T {
  return Object.assign(new TypedEventEmitter(), { peerId: '' }) as unknown as T
}

/** The OpenAPI documents of both APIs, as GET /openapi.json serves them. */
export async function apiDocuments (): Promise<Record<keyof typeof DOCUMENT_FILES, OpenApiDocument>> {
  const token = 'x'.repeat(32)
  const site = createSiteApi({ node: idleNode<SiteNode>(), token })
  const member = createMemberApi({ node: idleNode<MemberNode>(), token })
  try {
    return { site: await openApiDocument(site), member: await openApiDocument(member) }
  } finally {
    await site.close()
    await member.close()
  }
}

/** The text of a document file: stable key order as generated, two-space indent, final newline. */
export function formatDocument (doc: OpenApiDocument): string {
  return JSON.stringify(doc, null, 2) + '\n'
}
