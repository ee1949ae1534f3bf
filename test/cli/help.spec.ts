import assert from 'node:assert/strict'
import type { Command } from 'commander'
import { memberCommands } from '../../src/cli/commands/member.js'
import { groupCommands } from '../../src/cli/commands/groups.js'
import { siteCommands } from '../../src/cli/commands/site.js'
import { DEFAULT_CONTENT_TYPE, DEFAULT_URGENCY, GROUP_ID_PATTERN, MAX_GROUP_MEMBERS_PER_REQUEST, MAX_GROUP_NAME_BYTES, MAX_PAGE_SIZE, MEMBER_ID_PATTERN, URGENCIES } from '../../src/node/index.js'

/** A command's help as one line (commander wraps long option descriptions). */
function help (commands: readonly Command[], name: string): string {
  const command = commands.find(c => c.name() === name)
  assert.ok(command !== undefined, `tmtp ${name} exists`)
  return command.helpInformation().replace(/\s+/g, ' ')
}

describe('cli: help shows the node\'s constants', () => {
  it('tmtp send: the default content type, the urgencies and the default urgency', () => {
    const text = help(siteCommands(), 'send')
    assert.ok(text.includes(`media type of the body (default ${DEFAULT_CONTENT_TYPE})`), text)
    assert.ok(text.includes(`(default ${DEFAULT_URGENCY})`), text)
    assert.ok(text.includes(`choices: ${URGENCIES.map(u => `"${u}"`).join(', ')}`), text)
    assert.doesNotMatch(text, /text\/plain/)
  })

  it('tmtp send refuses an urgency that is not one of URGENCIES', () => {
    const send = siteCommands().find(c => c.name() === 'send') as Command
    send.exitOverride().configureOutput({ writeErr: () => {} })
    assert.throws(() => send.parse(['--to', 'a', '--subject', 's', '--body', 'b', '--urgency', 'urgent'], { from: 'user' }), { code: 'commander.invalidArgument' })
  })

  it('tmtp invite, send and remove-member: a name in the shape of MEMBER_ID_PATTERN is a member id; what a removal does', () => {
    const shape = `the shape of a member id (${MEMBER_ID_PATTERN.source})`
    assert.ok(help(siteCommands(), 'invite').includes(`never in ${shape}`))
    for (const name of ['send', 'remove-member']) assert.ok(help(siteCommands(), name).includes(`a name in ${shape} is a member id`), name)
    assert.match(help(siteCommands(), 'remove-member'), /their connections end, their queued messages are dropped, and invites not yet redeemed for its reference are revoked/)
  })

  it('tmtp send and tmtp group: recipients, group ids and the groups\' limits', () => {
    const send = help(siteCommands(), 'send')
    assert.ok(send.includes(`a name in the shape of a group id (${GROUP_ID_PATTERN.source}) is a group id`), send)
    assert.match(send, /--to <refs>.*--group <group>.*--all every member of the site/)
    assert.match(send, /Who it is for is decided once, now: each device of each member so named gets one copy/)
    const group = groupCommands().find(c => c.name() === 'group') as Command
    const sub = (name: string): string => help(group.commands, name)
    assert.ok(sub('create').includes(`1 to ${MAX_GROUP_NAME_BYTES} bytes on one line`), sub('create'))
    for (const name of ['create', 'add', 'remove']) assert.ok(sub(name).includes(`at most ${MAX_GROUP_MEMBERS_PER_REQUEST}`), name)
    assert.ok(help(groupCommands(), 'groups').includes(`1 to ${MAX_PAGE_SIZE}`))
    assert.match(sub('remove'), /messages already sent to them through it are still delivered/)
  })

  it('tmtp read and tmtp reply take the site of a message where two sites sent its id (--site)', () => {
    for (const name of ['read', 'reply']) {
      const text = help(memberCommands(), name)
      assert.ok(text.includes('--site <peer> the peer id of the site that sent it'), text)
      assert.ok(text.includes('needed only where two sites sent a message with this id'), text)
    }
  })
})
