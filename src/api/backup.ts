import { BACKUP_FORMAT, BACKUP_NONCE_BYTES, BACKUP_SALT_BYTES, BACKUP_VERSION } from '../crypto/backup.js'

/**
 * The identity backup in the member API: the JSON schema of its document, as
 * POST /v1/identity/backup answers it. The format itself (sealing, opening, its bounds and
 * errors) is src/crypto/backup.ts, which the command and the inbox page use too.
 */
export * from '../crypto/backup.js'

/** The JSON document of a backup file (src/crypto/backup.ts's IdentityBackup). */
export const BACKUP_SCHEMA = {
  type: 'object',
  required: ['format', 'version', 'peerId', 'created', 'kdf', 'cipher', 'ciphertext'],
  properties: {
    format: { type: 'string', enum: [BACKUP_FORMAT] },
    version: { type: 'integer', enum: [BACKUP_VERSION] },
    peerId: { type: 'string', description: 'the PeerId of the identity inside (bound to the ciphertext)' },
    created: { type: 'integer', description: 'milliseconds since the Unix epoch' },
    kdf: {
      type: 'object',
      required: ['name', 'N', 'r', 'p', 'salt'],
      properties: {
        name: { type: 'string', enum: ['scrypt'] },
        N: { type: 'integer' },
        r: { type: 'integer' },
        p: { type: 'integer' },
        salt: { type: 'string', description: `${BACKUP_SALT_BYTES} bytes, base64url` }
      }
    },
    cipher: {
      type: 'object',
      required: ['name', 'nonce'],
      properties: {
        name: { type: 'string', enum: ['chacha20-poly1305'] },
        nonce: { type: 'string', description: `${BACKUP_NONCE_BYTES} bytes, base64url` }
      }
    },
    ciphertext: { type: 'string', description: 'the sealed identity and its 16-byte tag, base64url' }
  }
} as const
