import { ApiError } from '../../errors.js'
import { BACKUP_SCHEMA, MAX_PASSPHRASE_LENGTH, MIN_PASSPHRASE_LENGTH, sealBackup, type IdentityBackup } from '../../backup.js'
import { BODY_ERRORS, errorResponses, type RequestOf } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import { loadEncryptionKey, loadIdentity, peerIdToString, type MemberNode } from '../../../node/index.js'

const backupBody = {
  type: 'object',
  additionalProperties: false,
  required: ['passphrase'],
  properties: { passphrase: { type: 'string', minLength: MIN_PASSPHRASE_LENGTH, maxLength: MAX_PASSPHRASE_LENGTH } }
} as const

/** The body of POST /v1/identity/backup. */
export type BackupBody = RequestOf<typeof backupBody>
/** What POST /v1/identity/backup answers: the backup file's JSON document (docs/backup.md). */
export type BackupResponse = IdentityBackup

export interface IdentityRoutesOptions {
  node: MemberNode
  /** The node's data folder, whose key files the backup seals; without it the route answers 404. */
  dataDir?: string
}

/** POST /v1/identity/backup: the device's identity and sites, sealed under a passphrase. */
export const identityRoutes: FastifyPluginAsync<IdentityRoutesOptions> = async (app, { node, dataDir }) => {
  // scrypt takes 128 MiB for half a second: one backup at a time
  let sealing = false
  app.post<{ Body: BackupBody }>('/v1/identity/backup', {
    schema: {
      tags: ['identity'],
      summary: 'An encrypted backup of this device\'s identity',
      description: `The device's Ed25519 and X25519 secret keys and the sites it joined, sealed with ChaCha20-Poly1305 under a key that scrypt derives from the passphrase (${MIN_PASSPHRASE_LENGTH} to ${MAX_PASSPHRASE_LENGTH} characters); the format is docs/backup.md. Save the answer as a file: \`tmtp init --role member --restore FILE\` makes a device of the same identity from it. One backup is made at a time (429 while another is).`,
      body: backupBody,
      response: { 200: { description: 'the backup file\'s JSON document', ...BACKUP_SCHEMA }, ...errorResponses(...BODY_ERRORS, 404) }
    }
  }, async (request): Promise<BackupResponse> => {
    if (dataDir === undefined) throw new ApiError('NOT_FOUND', 'this API was made without the node\'s data folder (dataDir), so it cannot read the identity to back it up')
    if (sealing) throw new ApiError('RATE_LIMITED', 'another backup is being made', { retryAfterSeconds: 2 })
    sealing = true
    try {
      const signer = await loadIdentity(dataDir)
      // a dataDir that is not the running node's would back up another identity
      if (peerIdToString(signer.peerId) !== node.peerId) throw new Error('the data folder given to the member API holds another identity than the running node\'s')
      const encryption = await loadEncryptionKey(dataDir)
      return await sealBackup({ ed25519: signer.seed, x25519: encryption.privateKey, sites: await node.sites() }, request.body.passphrase)
    } finally {
      sealing = false
    }
  })
}
