/**
 * The APIs' rules without the APIs: what the command needs to check its configuration without
 * loading fastify or the node (as `src/node/contract.ts` is to the node). Identity backups are
 * src/crypto/backup.ts, which `tmtp init --restore` loads when it needs them.
 * `index.ts` re-exports all of it.
 */
export { checkAllowedHosts, hostAllowed } from './hosts.js'
