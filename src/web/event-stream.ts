/** One Server-Sent Event: its type (`event:`, default "message") and its data lines joined. */
export interface StreamEvent {
  event: string
  data: string
}

/**
 * The events of a text/event-stream body (the WHATWG format: `field: value` lines, a blank
 * line ends an event, lines starting with ":" are comments). Read with fetch(), which can
 * send the Authorization header that EventSource cannot.
 */
export async function * readEvents (body: ReadableStream<Uint8Array<ArrayBuffer>>): AsyncGenerator<StreamEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  let event = ''
  let data: string[] = []
  // a chunk that ends with "\r" ended its line; a "\n" that starts the next one is the same line end
  let afterCR = false
  try {
    while (true) {
      const { value, done } = await reader.read()
      if (done) return
      const text: string = afterCR && value.startsWith('\n') ? value.slice(1) : value
      afterCR = text.endsWith('\r')
      const lines = (buffer + text).split(/\r\n|\r|\n/)
      // the last piece has no line end yet
      buffer = lines.pop() ?? ''
      for (const line of lines) {
        if (line === '') {
          if (data.length > 0) yield { event: event === '' ? 'message' : event, data: data.join('\n') }
          event = ''
          data = []
          continue
        }
        if (line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const field = colon < 0 ? line : line.slice(0, colon)
        const content = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (field === 'event') event = content
        else if (field === 'data') data.push(content)
      }
    }
  } finally {
    reader.releaseLock()
  }
}
