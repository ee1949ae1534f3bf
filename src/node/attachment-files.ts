/**
 * Where a member device keeps the attachments it fetched (spec 15.6): a file per attachment,
 * written as a partial file while its chunks arrive and made whole once checked. The platform
 * gives it (platform.ts); a browser tab has none yet, and fetches no attachments.
 */
export interface AttachmentFiles {
  /** Bytes held of the partial file (0 when there is none). */
  partSize: (name: string) => Promise<number>
  /** Opens the partial file for appending at `offset`, dropping what lies past it (a chunk cut by a crash). */
  openPart: (name: string, offset: number) => Promise<PartFile>
  /** SHA-256 of the partial file. */
  hashPart: (name: string) => Promise<Uint8Array>
  /** The partial file, checked, becomes the attachment. */
  complete: (name: string) => Promise<void>
  /** Deletes the attachment and its partial file. */
  remove: (name: string) => Promise<void>
  /** Where the whole attachment is, if it is. */
  whole: (name: string) => Promise<string | undefined>
}

export interface PartFile {
  append: (bytes: Uint8Array) => Promise<void>
  /** Syncs and closes: what was appended survives a crash. */
  close: () => Promise<void>
}
