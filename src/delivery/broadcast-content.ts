import { decodeContent, encodeContent } from '../crypto/index.js'

/**
 * A broadcast's Content for each group label its members see, from the encoding stored when it
 * was accepted (without a label): the fan-out may run after a restart, with nothing of the send
 * but what the store kept. Decoded once; one encoding per label (a send names at most
 * MAX_SEND_GROUPS groups).
 */
export function storedContent (base: Uint8Array): (group?: string) => Uint8Array {
  const fields = decodeContent(base)
  const encoded = new Map<string, Uint8Array>([['', base]])
  return (group = '') => {
    let content = encoded.get(group)
    if (content === undefined) {
      content = encodeContent({ ...fields, group })
      encoded.set(group, content)
    }
    return content
  }
}
