/** Node.js: the DHT server learns who sent a request through the handler's async context. */
export { AsyncLocalStorage } from 'node:async_hooks'
