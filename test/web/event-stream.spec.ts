import assert from 'node:assert/strict'
import { readEvents, type StreamEvent } from '../../src/web/event-stream.js'

/** The page's reader of text/event-stream bodies, fed chunks cut anywhere. */

function body (chunks: string[]): ReadableStream<Uint8Array<ArrayBuffer>> {
  const encoder = new TextEncoder()
  return new ReadableStream({
    start (controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk))
      controller.close()
    }
  })
}

async function collect (chunks: string[]): Promise<StreamEvent[]> {
  const events: StreamEvent[] = []
  for await (const event of readEvents(body(chunks))) events.push(event)
  return events
}

describe('web: event stream reader', () => {
  const stream = 'event: ready\ndata: {}\n\n: ping\n\nevent: message\ndata: {"a":1}\n\ndata: line one\ndata: line two\n\nevent: lonely\n\n'
  const expected = [
    { event: 'ready', data: '{}' },
    { event: 'message', data: '{"a":1}' },
    { event: 'message', data: 'line one\nline two' }
  ]

  it('reads events, skips comments and events without data, joins data lines', async () => {
    assert.deepEqual(await collect([stream]), expected)
  })

  it('reads the same events whatever the chunks, with any line ends (a "\\r\\n" cut in two included)', async () => {
    for (const text of [stream, stream.replace(/\n/g, '\r\n'), stream.replace(/\n/g, '\r')]) {
      for (let size = 1; size <= 7; size++) {
        const chunks: string[] = []
        for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size))
        assert.deepEqual(await collect(chunks), expected, JSON.stringify({ size, text }))
      }
    }
  })

  it('an event the stream ends before its blank line is not delivered', async () => {
    assert.deepEqual(await collect(['event: ready\ndata: {}\n\nevent: message\ndata: cut']), [{ event: 'ready', data: '{}' }])
  })
})
