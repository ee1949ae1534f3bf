// Writes the OpenAPI documents of the site and member HTTP APIs into docs/ (npm run openapi).
// test/api/openapi.spec.ts fails when the committed files differ from what this writes.
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { DOCUMENT_FILES, apiDocuments, formatDocument } from '../src/api/documents.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const documents = await apiDocuments()
for (const role of ['site', 'member'] as const) {
  await writeFile(root + DOCUMENT_FILES[role], formatDocument(documents[role]))
  console.log(`wrote ${DOCUMENT_FILES[role]}`)
}
