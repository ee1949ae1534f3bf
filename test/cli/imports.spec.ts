import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/**
 * The modules a file imports when it is loaded: static imports and re-exports that stay in the
 * compiled JavaScript (not `import type`, nor imports of types only; dynamic import() is lazy).
 */
function staticImports (file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022)
  const out: string[] = []
  for (const node of source.statements) {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause
      const bindings = clause?.namedBindings
      const typesOnly = clause !== undefined && (clause.isTypeOnly || (clause.name === undefined && bindings !== undefined &&
        ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every(e => e.isTypeOnly)))
      if (!typesOnly) out.push((node.moduleSpecifier as ts.StringLiteral).text)
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && !node.isTypeOnly) {
      out.push((node.moduleSpecifier as ts.StringLiteral).text)
    }
  }
  return out
}

/** Every source file and package that loading `entry` loads, stopping at the files in `leaves`. */
function closure (entry: string, leaves: Set<string>): { files: Set<string>, packages: Set<string> } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string): void => {
    if (files.has(file)) return
    files.add(file)
    if (leaves.has(file)) return
    for (const spec of staticImports(join(ROOT, file))) {
      if (spec.startsWith('.')) visit(relative(ROOT, resolve(dirname(join(ROOT, file)), spec)).replace(/\.js$/, '.ts'))
      else if (!spec.startsWith('node:')) packages.add(spec)
    }
  }
  visit(entry)
  return { files, packages }
}

describe('cli: what the command loads before it needs a node', () => {
  it('takes the node\'s contract from its light face (src/node/contract.ts): only init and start load the node, on demand', () => {
    const { files, packages } = closure('src/cli/main.ts', new Set(['src/node/contract.ts']))
    assert.ok(files.has('src/cli/commands/init.ts') && files.has('src/node/contract.ts'), 'the walk follows the imports')
    for (const face of ['src/node/index.ts', 'src/api/index.ts']) assert.ok(!files.has(face), `the command loads ${face}`)
    assert.deepEqual([...packages].sort(), ['commander'], 'no package but the command line\'s own (libp2p, LevelDB and fastify wait for tmtp start)')
  })

  it('the node\'s light face loads no libp2p, LevelDB nor HTTP package', () => {
    const { packages } = closure('src/node/contract.ts', new Set())
    const heavy = [...packages].filter(p => /libp2p|level|fastify|datastore|@chainsafe|multiaddr/.test(p))
    assert.deepEqual(heavy, [], `src/node/contract.ts loads ${[...packages].sort().join(', ')}`)
  })
})
