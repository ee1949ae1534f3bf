// Loaded by mocha before any test file (.mocharc.json): the Node 20 polyfill libp2p needs.
import '../src/polyfill.js'
