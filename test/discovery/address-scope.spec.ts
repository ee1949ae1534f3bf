import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { inScope, keepableAddrs } from '../../src/discovery/address-scope.js'

describe('discovery/address-scope', () => {
  const loopback = '/ip4/127.0.0.1/tcp/4001'
  const lan = '/ip4/10.0.0.5/tcp/22'
  const v6lan = '/ip6/fe80::1/tcp/4001'
  const pub = '/ip4/203.0.114.7/tcp/4001'
  const name = '/dns4/example.org/tcp/4001'

  it('keeps what the scope allows: all, private and loopback only, or public IP addresses only', () => {
    const all = [loopback, lan, v6lan, pub, name]
    assert.deepEqual(all.filter(a => inScope(multiaddr(a), 'all')), all)
    assert.deepEqual(all.filter(a => inScope(multiaddr(a), 'lan')), [loopback, lan, v6lan])
    assert.deepEqual(all.filter(a => inScope(multiaddr(a), 'public')), [pub], 'a DNS name may resolve to a private address')
  })

  it('drops what is not a dialable TCP address, duplicates, and everything past 16', () => {
    const odd = ['not a multiaddr', '/ip4/127.0.0.1/udp/4001/quic-v1', `${loopback}/p2p/12D3KooWRykbAAWKGBanhHTeMcQkRTyG2LjqgPc84MCAHoySoKjD`, '/unix/tmp/socket', loopback, loopback]
    assert.deepEqual(keepableAddrs(odd, 'all'), [loopback])
    const many = Array.from({ length: 40 }, (_, i) => `/ip4/127.0.0.1/tcp/${4000 + i}`)
    assert.deepEqual(keepableAddrs(many, 'all'), many.slice(0, 16))
    assert.deepEqual(keepableAddrs([lan, pub, loopback], 'public'), [pub])
    // WebSockets, plain or over TLS, for members in a browser
    const ws = ['/ip4/127.0.0.1/tcp/4002/ws', '/dns4/site.example/tcp/443/wss', '/dns4/site.example/tcp/443/tls/ws', '/ip4/127.0.0.1/tcp/4002/ws/x']
    assert.deepEqual(keepableAddrs(ws, 'all'), ws.slice(0, 3))
  })
})
