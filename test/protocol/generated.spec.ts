import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)))

/** The protons command, as npm run generate finds it (package.json "bin" of protons). */
async function protonsBin (): Promise<string> {
  const dir = join(root, 'node_modules/protons')
  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { bin: string | Record<string, string> }
  return join(dir, typeof pkg.bin === 'string' ? pkg.bin : pkg.bin.protons)
}

describe('protocol/pb (generated code)', () => {
  it('src/protocol/pb/tmtp.ts is what protons generates from spec/tmtp.proto now (npm run generate)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'tmtp-protons-'))
    try {
      await promisify(execFile)(process.execPath, [await protonsBin(), join(root, 'spec/tmtp.proto'), '-o', out], { cwd: root })
      const generated = await readFile(join(out, 'tmtp.ts'))
      const checkedIn = await readFile(join(root, 'src/protocol/pb/tmtp.ts'))
      assert.ok(generated.equals(checkedIn), 'src/protocol/pb/tmtp.ts is stale: run npm run generate and commit the result')
    } finally {
      await rm(out, { recursive: true, force: true })
    }
  })
})
