// libp2p 3.x, yamux and their helpers call Promise.withResolvers (ES2024), which Node.js 20
// lacks: without it every inbound connection fails during the Noise handshake. Every entry
// point imports this module before anything from libp2p.
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T> (): PromiseWithResolvers<T> {
      const resolvers: Partial<PromiseWithResolvers<T>> = {}
      resolvers.promise = new Promise<T>((resolve, reject) => {
        resolvers.resolve = resolve
        resolvers.reject = reject
      })
      return resolvers as PromiseWithResolvers<T>
    }
  })
}

export {}
