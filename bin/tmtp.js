#!/usr/bin/env node
// The tmtp command: the compiled JavaScript in dist/ (`npm run build`, which `npm ci` and
// `npm install` run through the prepare script), on plain Node.js, with no TypeScript loader.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const entry = new URL('../dist/cli/main.js', import.meta.url)
if (!existsSync(entry)) {
  process.stderr.write(`tmtp: ${fileURLToPath(entry)} is missing: run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}\n`)
  process.exit(6)
}

// `npm run tmtp -- ...` runs in the package folder: relative paths (--data, --file) mean
// the folder the user typed the command in
if (process.env.npm_lifecycle_event === 'tmtp' && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD)

const { main } = await import(entry.href)
const code = await main()
// exit once stdout is flushed: a node's libp2p or a keep-alive socket must not keep the command alive
process.stdout.once('error', () => { process.exit(code) })
process.stdout.write('', () => { process.exit(code) })
