import { BODY_ERRORS, errorResponses, GROUP_NAMES, MEMBER_NAMES, memberRef, memberRefParams, pageNext, pageQuery, time, type RequestOf, type ResponseOf } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import { MAX_GROUP_MEMBERS_PER_REQUEST, MAX_GROUP_NAME_BYTES, MAX_PAGE_SIZE, type SiteNode } from '../../../node/index.js'

// The node checks group names and the members per request itself, so that each fault has one
// code (INVALID_GROUP_NAME, TOO_MANY_MEMBERS) whatever its size: the schemas state the limits
// and bound the rest (the body limit bounds these).

/** What a name of a group must be (the node refuses anything else: 400 INVALID_GROUP_NAME). */
export const GROUP_NAME_RULES = `1 to ${MAX_GROUP_NAME_BYTES} bytes of UTF-8 on one line (no control characters), no white space at either end, unique at the site (else 409 GROUP_NAME_TAKEN), never of a group id's shape; members see it beside the site's name`

/** What a list of members in one request may hold (more: 400 TOO_MANY_MEMBERS). */
export const GROUP_MEMBERS_RULES = `at most ${MAX_GROUP_MEMBERS_PER_REQUEST} member ids or user references (more: 400 TOO_MANY_MEMBERS); ${MEMBER_NAMES}`

export const groupView = {
  type: 'object',
  required: ['id', 'name', 'created', 'size'],
  properties: {
    id: { type: 'string', description: 'the group id, chosen by the site' },
    name: { type: 'string', description: 'the display name, unique at the site' },
    created: time,
    size: { type: 'integer', minimum: 0, description: 'members in the group' }
  }
} as const

const groupName = { type: 'string', description: GROUP_NAME_RULES } as const
const memberList = { type: 'array', items: memberRef, description: GROUP_MEMBERS_RULES } as const

const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: groupName, members: { ...memberList, description: `the first members: ${GROUP_MEMBERS_RULES}` } }
} as const

const renameBody = { type: 'object', additionalProperties: false, required: ['name'], properties: { name: groupName } } as const
const membersBody = { type: 'object', additionalProperties: false, required: ['members'], properties: { members: memberList } } as const

const groupParams = {
  type: 'object',
  additionalProperties: false,
  required: ['group'],
  // no name is longer in characters than in bytes
  properties: { group: { type: 'string', minLength: 1, maxLength: MAX_GROUP_NAME_BYTES, description: `group id or name: ${GROUP_NAMES}` } }
} as const

const groupPage = {
  type: 'object',
  required: ['groups', 'next'],
  properties: { groups: { type: 'array', items: groupView }, next: pageNext }
} as const

const memberPage = {
  type: 'object',
  required: ['members', 'next'],
  properties: {
    members: {
      type: 'array',
      items: { type: 'object', required: ['id', 'ref'], properties: { id: { type: 'string' }, ref: { type: 'string' } } }
    },
    next: pageNext
  }
} as const

const change = {
  type: 'object',
  required: ['changed', 'group'],
  properties: {
    changed: { type: 'integer', minimum: 0, description: 'members that joined (or left) the group: those already in it (or not in it) are not counted' },
    group: groupView
  }
} as const

const memberGroups = { type: 'object', required: ['groups'], properties: { groups: { type: 'array', items: groupView } } } as const

/** A group as the routes answer it. */
export type GroupResponse = ResponseOf<typeof groupView>
/** What GET /v1/groups answers. */
export type GroupPageResponse = ResponseOf<typeof groupPage>
/** What GET /v1/groups/:group/members answers. */
export type GroupMembersResponse = ResponseOf<typeof memberPage>
/** What adding or removing members answers. */
export type GroupChangeResponse = ResponseOf<typeof change>
/** What GET /v1/members/:ref/groups answers. */
export type MemberGroupsResponse = ResponseOf<typeof memberGroups>
/** The body of POST /v1/groups. */
export type CreateGroupBody = RequestOf<typeof createBody>
/** The body of PATCH /v1/groups/:group. */
export type RenameGroupBody = RequestOf<typeof renameBody>
/** The body of POST /v1/groups/:group/members and .../members/remove. */
export type GroupMembersBody = RequestOf<typeof membersBody>
/** The query of the paged listings. */
export type PageQuery = RequestOf<typeof pageQuery>

type GroupParams = RequestOf<typeof groupParams>

const limitOf = (query: PageQuery): number | undefined => query.limit === undefined ? undefined : Number(query.limit)

/** Groups of members: /v1/groups..., and a member's groups. */
export const groupRoutes: FastifyPluginAsync<{ node: SiteNode }> = async (app, { node }) => {
  app.get<{ Querystring: PageQuery }>('/v1/groups', {
    schema: {
      tags: ['groups'],
      summary: 'List groups, in the byte order of their names',
      description: `A page at a time: at most limit groups (1 to ${MAX_PAGE_SIZE}), and next, the cursor of the next page (null at the end).`,
      querystring: pageQuery,
      response: { 200: { description: 'a page of groups', ...groupPage }, ...errorResponses(400) }
    }
  }, async (request): Promise<GroupPageResponse> => await node.groups({ after: request.query.after, limit: limitOf(request.query) }))

  app.post<{ Body: CreateGroupBody }>('/v1/groups', {
    schema: {
      tags: ['groups'],
      summary: 'Create a group, with its first members if given',
      description: 'All or nothing: an unknown member (404 UNKNOWN_MEMBER) creates no group.',
      body: createBody,
      response: { 201: { description: 'the group', ...groupView }, ...errorResponses(...BODY_ERRORS, 404, 409) }
    }
  }, async (request, reply) => {
    const created: GroupResponse = await node.createGroup(request.body)
    return await reply.code(201).send(created)
  })

  app.get<{ Params: GroupParams }>('/v1/groups/:group', {
    schema: {
      tags: ['groups'],
      summary: 'One group, by id or name',
      params: groupParams,
      response: { 200: { description: 'the group', ...groupView }, ...errorResponses(400, 404) }
    }
  }, async (request): Promise<GroupResponse> => await node.group(request.params.group))

  app.patch<{ Params: GroupParams, Body: RenameGroupBody }>('/v1/groups/:group', {
    schema: {
      tags: ['groups'],
      summary: 'Rename a group',
      description: 'Messages already accepted keep the name they were sent with.',
      params: groupParams,
      body: renameBody,
      response: { 200: { description: 'the group, renamed', ...groupView }, ...errorResponses(...BODY_ERRORS, 404, 409) }
    }
  }, async (request): Promise<GroupResponse> => await node.renameGroup(request.params.group, request.body.name))

  app.delete<{ Params: GroupParams }>('/v1/groups/:group', {
    schema: {
      tags: ['groups'],
      summary: 'Delete a group',
      description: 'Its members stay members of the site; messages already accepted for them are still delivered. Answers the group as it was.',
      params: groupParams,
      response: { 200: { description: 'the group as it was before deletion', ...groupView }, ...errorResponses(400, 404) }
    }
  }, async (request): Promise<GroupResponse> => await node.deleteGroup(request.params.group))

  app.get<{ Params: GroupParams, Querystring: PageQuery }>('/v1/groups/:group/members', {
    schema: {
      tags: ['groups'],
      summary: 'A group\'s members, in member id order',
      description: `A page at a time: at most limit members (1 to ${MAX_PAGE_SIZE}), and next, the cursor of the next page (null at the end).`,
      params: groupParams,
      querystring: pageQuery,
      response: { 200: { description: 'a page of the group\'s members', ...memberPage }, ...errorResponses(400, 404) }
    }
  }, async (request): Promise<GroupMembersResponse> => await node.groupMembers(request.params.group, { after: request.query.after, limit: limitOf(request.query) }))

  // adding and removing: one request shape, all or nothing, to two routes
  const changes = [
    ['/v1/groups/:group/members', 'Add members to a group', 'adds nobody. Members already in the group stay, uncounted. A send accepted before does not reach them through the group.', 'how many joined, and the group now', node.addGroupMembers],
    ['/v1/groups/:group/members/remove', 'Remove members from a group', 'removes nobody. Messages accepted before for these members are still delivered to them: who a message is for is resolved once, when it is accepted.', 'how many left, and the group now', node.removeGroupMembers]
  ] as const
  for (const [path, summary, rule, answer, apply] of changes) {
    app.post<{ Params: GroupParams, Body: GroupMembersBody }>(path, {
      schema: {
        tags: ['groups'],
        summary,
        description: `All or nothing: an unknown member (404 UNKNOWN_MEMBER) ${rule}`,
        params: groupParams,
        body: membersBody,
        response: { 200: { description: answer, ...change }, ...errorResponses(...BODY_ERRORS, 404) }
      }
    }, async (request): Promise<GroupChangeResponse> => await apply(request.params.group, request.body.members))
  }

  app.get<{ Params: { ref: string } }>('/v1/members/:ref/groups', {
    schema: {
      tags: ['groups'],
      summary: 'The groups a member is in, by name',
      params: memberRefParams,
      response: { 200: { description: 'the member\'s groups', ...memberGroups }, ...errorResponses(400, 404) }
    }
  }, async (request): Promise<MemberGroupsResponse> => ({ groups: await node.memberGroups(request.params.ref) }))
}
