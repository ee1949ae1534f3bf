#!/usr/bin/env node
// The tmtp command. It runs the TypeScript sources directly, with no build step: tsx is
// registered as a loader, then src/cli/main.ts runs.
import { fileURLToPath } from 'node:url'
import { register } from 'tsx/esm/api'

// `npm run tmtp -- ...` runs in the package folder: relative paths (--data, --file) mean
// the folder the user typed the command in
if (process.env.npm_lifecycle_event === 'tmtp' && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD)

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) })
await import('../src/cli/main.ts')
