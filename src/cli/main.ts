// the tmtp command line: bin/tmtp.js imports the compiled module and runs main(); the Node 20 polyfill first
import '../polyfill.js'
import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { demoCommand } from './commands/demo.js'
import { groupCommands } from './commands/groups.js'
import { initCommand } from './commands/init.js'
import { memberCommands } from './commands/member.js'
import { openCommand } from './commands/open.js'
import { siteCommands } from './commands/site.js'
import { startCommand } from './commands/start.js'
import { statusCommand } from './commands/status.js'
import { EXIT } from './errors.js'
import { reportError } from './output.js'

function version (): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

const EXIT_CODES = `
Exit codes:
  0  done
  1  bad usage or argument, wrong role, bad or existing config
  2  the node is not running
  3  the API token was refused
  4  not found (member, message, site, group)
  5  refused by the protocol or a peer (bad or used invite, blocked, unreachable)
  6  internal error
  7  tmtp demo: something did not arrive exactly once`

function createProgram (): Command {
  const program = new Command('tmtp')
    .description('TMTP: federated peer-to-peer messaging from sites to their members')
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES)
    .exitOverride()
  const commands = [initCommand(), startCommand(), statusCommand(), ...siteCommands(), ...groupCommands(), ...memberCommands(), openCommand(), demoCommand()]
  for (const cmd of commands) program.addCommand(inherit(cmd, program))
  return program
}

/** A command with its parent's settings (exit override, help after errors), and its subcommands with its own. */
function inherit (cmd: Command, parent: Command): Command {
  cmd.copyInheritedSettings(parent)
  for (const sub of cmd.commands) inherit(sub, cmd)
  return cmd
}

/** Runs the command line; resolves with the process exit code (never throws). */
export async function main (argv: string[] = process.argv): Promise<number> {
  const program = createProgram()
  try {
    await program.parseAsync(argv)
    return EXIT.OK
  } catch (err) {
    // commander has printed its own message (usage error, --help, --version)
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE
    return reportError(err, argv.includes('--json'))
  }
}
