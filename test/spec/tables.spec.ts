import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as protocol from '../../src/protocol/index.js'
import * as discovery from '../../src/discovery/constants.js'
import { DEFAULTS, URGENCIES } from '../../src/node/index.js'

/**
 * The tables of spec/tmtp.md that state values the code also holds: the error codes (section
 * 18, and the code columns of every check table), the limits (section 19) and the named
 * constants (`NAME` = value in the framing and timeout tables); and the default content type
 * and the urgencies' order. Each is held to the code's constant, so that neither changes alone.
 */

const SPEC = readFileSync(fileURLToPath(new URL('../../spec/tmtp.md', import.meta.url)), 'utf8')

interface Table {
  /** The heading the table stands under, e.g. "## 18. Error codes". */
  section: string
  header: string[]
  rows: string[][]
}

/** Every Markdown table of the spec, its cells trimmed (`\|` is a literal bar inside a cell). */
function tables (text: string): Table[] {
  const out: Table[] = []
  let section = ''
  let current: Table | undefined
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) section = line
    if (!line.startsWith('|')) {
      current = undefined
      continue
    }
    const cells = line.slice(1, line.endsWith('|') ? -1 : undefined).split(/(?<!\\)\|/).map(c => c.trim())
    if (current === undefined) {
      current = { section, header: cells, rows: [] }
      out.push(current)
    } else if (!cells.every(c => /^-+$/.test(c))) {
      current.rows.push(cells)
    }
  }
  return out
}

const TABLES = tables(SPEC)

function table (section: string): Table {
  const found = TABLES.filter(t => t.section.startsWith(section))
  assert.equal(found.length, 1, `one table under ${section}`)
  return found[0]
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, min: 60_000, minute: 60_000, minutes: 60_000, h: 3_600_000, day: 86_400_000, days: 86_400_000, KiB: 1024, bytes: 1 }

/** The numbers a cell states, in order, durations in milliseconds and sizes in bytes ("131 072 bytes (128 KiB)": both). */
function quantities (cell: string): number[] {
  const text = cell.replace(/`/g, '').replace('2^53 − 1', String(2 ** 53 - 1))
  return [...text.matchAll(/(\d+(?: \d{3})*)(?:\s*(ms|minutes|minute|min|s|h|days|day|KiB|bytes)\b)?/g)]
    .map(([, number, unit]) => Number(number.replace(/ /g, '')) * (unit === undefined ? 1 : UNITS[unit]))
}

const CODES = Object.values(protocol.ErrorCode).filter((c): c is protocol.ErrorCode => typeof c === 'string')

describe('spec/tmtp.md tables hold the code\'s values', () => {
  it('section 18 lists exactly the codes of ErrorCode, each with its wire number', () => {
    const codes = table('## 18.')
    assert.deepEqual(codes.header.slice(0, 2), ['code', '#'])
    assert.deepEqual(
      codes.rows.map(([code, number]) => [code.replace(/`/g, ''), Number(number)]),
      CODES.map(code => [code, protocol.codeToWire(code)])
    )
  })

  it('every code a check table or the stream-error list names is an ErrorCode', () => {
    let checked = 0
    for (const t of TABLES) {
      const columns = t.header.flatMap((name, i) => ['code', 'on failure'].includes(name) ? [i] : [])
      for (const row of t.rows) {
        for (const i of columns) {
          for (const [, code] of row[i].matchAll(/`([A-Z][A-Z_]+)`/g)) {
            assert.ok(CODES.includes(code as protocol.ErrorCode), `${t.section}: ${code} is not an ErrorCode`)
            checked++
          }
        }
      }
    }
    const streamErrors = /Codes a \*\*stream error\*\*[^]*?\n\n/.exec(SPEC)?.[0] ?? ''
    for (const [, code] of streamErrors.matchAll(/`([A-Z][A-Z_]+)`/g)) {
      assert.ok(CODES.includes(code as protocol.ErrorCode), `stream errors: ${code} is not an ErrorCode`)
      checked++
    }
    assert.ok(checked > 50, `${checked} codes checked`)
  })

  it('section 19 states the limits of the code, and every limit it lists is checked here', () => {
    assert.equal(protocol.MAX_MEMBER_ID_BYTES, protocol.MAX_NAME_BYTES, 'one row states both')
    const expected: Record<string, number[]> = {
      'frame body, deliver and post': [protocol.MAX_FRAME_SIZE, protocol.MAX_FRAME_SIZE],
      'frame body, join and leave': [protocol.MAX_CONTROL_FRAME_SIZE, protocol.MAX_CONTROL_FRAME_SIZE],
      'addresses per address record': [discovery.MAX_RECORD_ADDRS, 1, discovery.MAX_RECORD_ADDR_BYTES],
      'address record lifetime': [discovery.MAX_RECORD_LIFETIME_MS, discovery.DEFAULT_RECORD_LIFETIME_MS],
      'address record republish interval': [discovery.DEFAULT_REPUBLISH_INTERVAL_MS],
      'DHT lookup timeout': [discovery.DEFAULT_LOOKUP_TIMEOUT_MS],
      'address record value': [discovery.MAX_ADDRESS_RECORD_BYTES],
      'address records a DHT server keeps for others': [DEFAULTS.dhtMaxRecords, DEFAULTS.dhtMaxBytes],
      'PUT_VALUE requests a DHT server accepts': [DEFAULTS.dhtPutsPerMinute, 60_000, DEFAULTS.dhtPutsPerMinutePerIp, 60_000],
      'length prefix': [protocol.MAX_VARINT_BYTES],
      'envelopes in flight per stream, receiver limit (MAX_IN_FLIGHT)': [protocol.MAX_IN_FLIGHT],
      // the spec bounds the window; its default is an implementation's (README's limits, held to DEFAULTS)
      'sender window per stream': [protocol.MAX_IN_FLIGHT],
      'ids per AckBody': [1, protocol.MAX_ACK_IDS],
      'deferred acks: delay after the previous ack (ACK_DELAY_MS) / ids held at most (ACK_DEFER_MAX_IDS)': [protocol.ACK_DELAY_MS, protocol.ACK_DEFER_MAX_IDS],
      'message id, thread, reply_to': [protocol.MESSAGE_ID_BYTES],
      'invite secret': [protocol.INVITE_SECRET_BYTES],
      'addresses per invite': [protocol.MAX_INVITE_ADDRS],
      'site_name, device_name, member_id': [protocol.MAX_NAME_BYTES],
      ref: [protocol.MAX_REF_BYTES],
      subject: [protocol.MAX_SUBJECT_BYTES],
      body: [protocol.MAX_BODY_BYTES, protocol.MAX_BODY_BYTES],
      content_type: [protocol.MAX_CONTENT_TYPE_BYTES],
      group: [protocol.MAX_GROUP_NAME_BYTES],
      'attachments per Content (MAX_ATTACHMENTS)': [protocol.MAX_ATTACHMENTS],
      'attachment name / media_type': [1, protocol.MAX_ATTACHMENT_NAME_BYTES, protocol.MAX_MEDIA_TYPE_BYTES],
      'Attachment.blob / sha256 / key': [protocol.BLOB_ID_BYTES, protocol.SHA256_BYTES, protocol.CONTENT_KEY_BYTES],
      // the chunk, and the tag a sealed chunk adds
      'blob chunk (BLOB_CHUNK_BYTES)': [protocol.BLOB_CHUNK_BYTES, 16],
      'blob request frame / blob reply frame': [protocol.MAX_CONTROL_FRAME_SIZE, protocol.MAX_FRAME_SIZE],
      'attachment size': [DEFAULTS.maxAttachmentBytes, DEFAULTS.maxMessageAttachmentBytes],
      // what a JavaScript number holds exactly: the decoders refuse more
      'uint64 values': [Number.MAX_SAFE_INTEGER],
      'envelopes per epoch and direction (MAX_EPOCH_ENVELOPES)': [protocol.MAX_EPOCH_ENVELOPES],
      'epoch age': [DEFAULTS.epochAgeMs],
      'message time to live': [DEFAULTS.ttlMs, 0],
      'clock skew tolerance (MAX_CLOCK_SKEW_MS)': [protocol.MAX_CLOCK_SKEW_MS],
      'join attempts per peer': [DEFAULTS.joinsPerMinute, 60_000],
      'replies stored per device': [DEFAULTS.repliesPerMinute, 60_000],
      'replies stored per member': [DEFAULTS.repliesPerMinutePerMember, 60_000],
      'stored reply bytes per member': [DEFAULTS.replyBytesPerMember],
      'reply retention at the site': [DEFAULTS.replyRetentionMs],
      'inbound streams per connection per TMTP protocol': [DEFAULTS.maxInboundStreams],
      'join/leave exchange': [protocol.CONTROL_STREAM_TIMEOUT_MS],
      'receipt timeout': [protocol.RECEIPT_TIMEOUT_MS],
      'stream idle timeout': [protocol.STREAM_IDLE_TIMEOUT_MS],
      // base, factor (the backoff doubles), cap
      'retry backoff': [DEFAULTS.retryBaseMs, 2, DEFAULTS.retryCapMs]
    }
    const limits = table('## 19.')
    assert.deepEqual(limits.header, ['limit', 'value', 'where'])
    const stated = new Map(limits.rows.map(([limit, value]) => [limit.replace(/`/g, ''), value]))
    assert.deepEqual([...stated.keys()].sort(), Object.keys(expected).sort(), 'every row of the limits table has its constants here')
    for (const [limit, values] of Object.entries(expected)) {
      assert.deepEqual(quantities(stated.get(limit) ?? ''), values, `${limit}: ${stated.get(limit)}`)
    }
  })

  it('every `NAME` a table gives a value is the constant of that name', () => {
    let checked = 0
    for (const t of TABLES) {
      for (const row of t.rows) {
        for (const [i, cell] of row.entries()) {
          // a row named by a constant (`RECEIPT_TIMEOUT_MS` | 30 000 | ...), or "`NAME` = value" in a cell
          const named = /^`([A-Z][A-Z_]+)`$/.exec(cell)
          const inline = [...cell.matchAll(/`([A-Z][A-Z_]+)` = ([\d ]+)/g)]
          const pairs = [...(named !== null && i === 0 ? [[named[1], row[1]]] : []), ...inline.map(m => [m[1], m[2]])]
          for (const [name, value] of pairs) {
            if (CODES.includes(name as protocol.ErrorCode)) continue
            assert.ok(name in protocol, `${t.section}: ${name} is a protocol constant`)
            assert.equal(quantities(value)[0], (protocol as Record<string, unknown>)[name], `${t.section}: ${name}`)
            checked++
          }
        }
      }
    }
    assert.ok(checked >= 5, `${checked} named values checked`)
  })

  it('section 15.2 sends in the order of URGENCIES, most urgent first', () => {
    const order = /in order of urgency \(([^;]*);/.exec(SPEC.replace(/\s+/g, ' '))?.[1].split(', ')
    assert.deepEqual(order, [...URGENCIES].reverse())
  })

  it('section 11.2 gives DEFAULT_CONTENT_TYPE as the content type of an empty content_type', () => {
    const content = /### 11\.2 Content([^]*?)### 11\.3/.exec(SPEC)?.[1] ?? ''
    assert.ok(content.includes(`"${protocol.DEFAULT_CONTENT_TYPE}" when empty`))
    assert.ok(content.replace(/\s+/g, ' ').includes(`An empty \`content_type\` means \`${protocol.DEFAULT_CONTENT_TYPE}\``))
    assert.doesNotMatch(content, /text\/plain/)
  })
})
