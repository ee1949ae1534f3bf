import { NodeError } from '../util/index.js'
import type { MemberRecord, SiteStore } from '../store/index.js'
import type { SendRequest } from './send-request.js'

/** A member a send reaches, with the display name of the group that reached it, if one did. */
export interface Addressee {
  member: MemberRecord
  /** Shown to the member beside the site's name (Content.group); absent for members named or reached by `all`. */
  group?: string
}

const CACHE_SIZE = 10_000
/** Member records read per call while a group is resolved. */
const PAGE = 1000

/**
 * Resolves a send's `to`, `groups` and `all` into members, each once, as they are now (the
 * outbox calls it once per send, when it accepts it). A member in several of the named groups
 * shows the first of them that holds it, in the order the send lists them, whether or not it
 * is also named in `to` or reached by `all`.
 */
export class RecipientResolver {
  private readonly store: SiteStore
  /** Members by id and by reference, as sends name them; cleared on every membership change. */
  private readonly byName = new Map<string, MemberRecord>()

  constructor (store: SiteStore) {
    this.store = store
  }

  async resolve (req: Pick<SendRequest, 'to' | 'groups' | 'all'>): Promise<Addressee[]> {
    const found = new Map<string, Addressee>()
    const reach = (member: MemberRecord, group?: string): void => {
      if (!found.has(member.id)) found.set(member.id, { member, group })
    }
    // every group first, so that a bad name fails the send before the rest is read
    const groups = []
    for (const name of req.groups ?? []) {
      const group = await this.store.groups.groupByName(name)
      if (group === undefined) throw new NodeError('UNKNOWN_GROUP', `no group with id or name ${JSON.stringify(name)}`)
      groups.push(group)
    }
    const named = []
    for (const name of req.to ?? []) named.push(await this.member(name))
    for (const group of groups) {
      let after: string | undefined
      do {
        const page = await this.store.groups.memberPage(group.id, { after, limit: PAGE })
        // a member removed meanwhile has no record: it is no longer in the group
        for (const member of await this.store.membersById(page.items)) if (member !== undefined) reach(member, group.name)
        after = page.next ?? undefined
      } while (after !== undefined)
    }
    for (const member of named) reach(member)
    if (req.all === true) for await (const member of this.store.members()) reach(member)
    return [...found.values()]
  }

  /** Forgets cached members after a join, leave or removal. */
  clear (): void {
    this.byName.clear()
  }

  private async member (name: string): Promise<MemberRecord> {
    let member = this.byName.get(name)
    if (member === undefined) {
      member = await this.store.memberByName(name)
      if (member === undefined) throw new NodeError('UNKNOWN_MEMBER', `no member with id or reference ${JSON.stringify(name)}`)
      if (this.byName.size >= CACHE_SIZE) this.byName.clear()
      this.byName.set(name, member)
    }
    return member
  }
}
