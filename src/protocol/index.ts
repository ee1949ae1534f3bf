/**
 * The wire layer of TMTP v1: protocol ids and limits, framing, the generated protobuf
 * codecs (also as the `pb` namespace) and error codes. It knows nothing of libp2p nodes,
 * LevelDB or HTTP, and runs wherever JavaScript does.
 */
export * from './constants.js'
export * from './errors.js'
export * from './framing.js'
export * from './messages.js'
export * from './pb/tmtp.js'
export * as pb from './pb/tmtp.js'
export * from './envelope-header.js'
