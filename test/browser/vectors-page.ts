import { checkFileHeader, checkVectorFile, type V } from '../spec/vector-checks.js'

/**
 * The page's side of test/browser/vectors.spec.ts, bundled for the browser: fetches the
 * vector files the server lists, checks each with the Node test's own checks, and leaves
 * the outcome per file in `globalThis.vectorResults` for the test to read.
 */

export interface VectorResult {
  name: string
  /** null when every check of the file passed, else the first failure's stack. */
  error: string | null
}

async function fetchJson (path: string): Promise<V> {
  const response = await fetch(path)
  if (!response.ok) throw new Error(`GET ${path}: ${response.status}`)
  return await response.json()
}

async function checkAll (): Promise<VectorResult[]> {
  const names: string[] = await fetchJson('vectors/')
  const all: Record<string, V> = Object.fromEntries(await Promise.all(names.map(async name => [name, await fetchJson(`vectors/${name}`)])))
  const results: VectorResult[] = []
  for (const name of names) {
    try {
      checkFileHeader(all[name])
      await checkVectorFile(name, all)
      results.push({ name, error: null })
    } catch (err) {
      results.push({ name, error: (err as Error).stack ?? String(err) })
    }
  }
  return results
}

Object.assign(globalThis, { vectorResults: checkAll() })
