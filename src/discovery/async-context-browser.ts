/**
 * A browser tab: no DHT server runs there (a tab cannot listen, and a member is a DHT client),
 * so no request ever needs its sender's context; this keeps the DHT's modules loadable.
 */
export class AsyncLocalStorage<T> {
  run<R> (_store: T, callback: () => R): R {
    return callback()
  }

  getStore (): T | undefined {
    return undefined
  }
}
