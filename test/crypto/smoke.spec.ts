import assert from 'node:assert/strict'
import { Ed25519Signer, createKeyEpoch, openKeyEpoch, generateX25519, sealEnvelope, parseEnvelope, decryptEnvelope, encodeContent, createInviteToken, parseInviteToken, signAck, openAck } from '../../src/crypto/index.js'

describe('crypto smoke', () => {
  it('epoch, envelope, invite, ack round trip', async () => {
    const site = Ed25519Signer.generate()
    const device = Ed25519Signer.generate()
    const x = generateX25519()
    const made = await createKeyEpoch({ site, device: device.peerId, deviceX25519: x.publicKey, epoch: 1, created: 1, expires: 2 })
    const opened = await openKeyEpoch(made.signed, { site: site.peerId, device: device.peerId, devicePrivateKey: x.privateKey })
    assert.deepEqual(opened.keys.siteToDevice.keyBytes, made.keys.siteToDevice.keyBytes)
    const env = sealEnvelope(made.keys.siteToDevice, { version: 1, id: new Uint8Array(16), sender: site.peerId as any, recipient: device.peerId as any, epoch: 1, seq: 1, created: 1, expires: 0 }, encodeContent({ subject: 'hi', body: 'there' }))
    const content = decryptEnvelope(opened.keys.siteToDevice, parseEnvelope(env))
    assert.equal(content.body, 'there')
    const token = createInviteToken(site, { addrs: [], secret: new Uint8Array(32), expires: Date.now() + 1000, ref: 'u1' })
    assert.equal(parseInviteToken(token, Date.now()).invite.ref, 'u1')
    const ack = signAck(device, site.peerId, [new Uint8Array(16)], 5)
    assert.equal(openAck(ack, site.peerId, device.peerId).ids.length, 1)
  })
})
