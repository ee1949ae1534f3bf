import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Plugin } from 'esbuild'

/**
 * An esbuild plugin for browser bundles of the sources: the package's own `#…` imports
 * (package.json `imports`: the crypto provider, the node platform) resolve to the source file
 * of their `browser` target. esbuild would otherwise follow tsconfig.json's `paths`, which give
 * tsc and tsx the Node implementations.
 */
export function browserImports (root: string): Plugin {
  const imports: Record<string, { browser: string }> = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).imports
  const sources = new Map(Object.entries(imports).map(([name, targets]) => [name, join(root, targets.browser.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'))]))
  return {
    name: 'browser-imports',
    setup (build) {
      build.onResolve({ filter: /^#/ }, args => {
        const path = sources.get(args.path)
        return path === undefined ? undefined : { path }
      })
    }
  }
}
