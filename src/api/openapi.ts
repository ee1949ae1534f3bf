import swagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'

/**
 * The version of the HTTP APIs (not of the package): it changes when a route changes
 * incompatibly. 2: /healthz names no PeerId, and a Host the API does not answer to is 421.
 */
export const API_VERSION = '2.0.0'

export interface OpenApiInfo {
  title: string
  description: string
  tags: Array<{ name: string, description: string }>
}

/** What both APIs' descriptions end with. */
const COMMON_DESCRIPTION = 'The API answers only requests whose Host header names loopback (localhost, 127.0.0.0/8, [::1]) or a host its operator allowed (else 421 HOST_NOT_ALLOWED, on every route). Every route but /healthz and /openapi.json needs `Authorization: Bearer <token>`. Errors are `{ error: { code, message } }` with a stable code.'

/** An API's document info: its purpose, then what every route shares; tags by name. */
export function apiInfo (title: string, purpose: string, tags: Record<string, string>): OpenApiInfo {
  return { title, description: `${purpose} ${COMMON_DESCRIPTION}`, tags: Object.entries(tags).map(([name, description]) => ({ name, description })) }
}

/** What GET /openapi.json answers: an OpenAPI 3 document. */
export type OpenApiDocument = Record<string, unknown> & { openapi: string, paths: Record<string, Record<string, unknown>> }

/**
 * Generates the OpenAPI 3 document from the route schemas (@fastify/swagger) and serves it
 * at GET /openapi.json without authentication: it holds no secret.
 */
export function installOpenApi (app: FastifyInstance, info: OpenApiInfo): void {
  app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: info.title, description: info.description, version: API_VERSION },
      tags: info.tags,
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'the node\'s API token (`Authorization: Bearer <token>`)' }
        }
      },
      security: [{ bearerAuth: [] }]
    }
  })
  app.register(async instance => {
    instance.get('/openapi.json', {
      config: { public: true },
      schema: { hide: true }
    }, async () => app.swagger())
  })
}

/** The document of an API instance (it need not listen). */
export async function openApiDocument (app: FastifyInstance): Promise<OpenApiDocument> {
  await app.ready()
  return app.swagger() as unknown as OpenApiDocument
}
