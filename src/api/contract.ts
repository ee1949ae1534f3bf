/**
 * The APIs' rules without the APIs: what the command needs to check its configuration and
 * open identity backups without loading fastify or the node (as `src/node/contract.ts` is to
 * the node).
 * `index.ts` re-exports all of it.
 */
export { checkAllowedHosts, hostAllowed } from './hosts.js'
export {
  BACKUP_FORMAT,
  BACKUP_SCRYPT,
  BACKUP_VERSION,
  BackupError,
  MAX_BACKUP_BYTES,
  MAX_PASSPHRASE_LENGTH,
  MIN_PASSPHRASE_LENGTH,
  openBackup,
  parseBackup,
  sealBackup,
  type BackupErrorCode,
  type BackupSite,
  type DeviceIdentity,
  type IdentityBackup
} from './backup.js'
