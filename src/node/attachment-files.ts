/**
 * Where a member device keeps the attachments it fetched (spec 15.6): a file per attachment,
 * written as a partial file while its chunks arrive and made whole once checked. The platform
 * gives it (platform.ts): on Node.js files in the data folder (attachment-files-node.ts), in a
 * browser tab the tab's IndexedDB (attachment-files-browser.ts). Both keep every chunk appended
 * before the next is fetched, so a fetch cut by a crash, a restart or a reload of the tab
 * resumes from what they hold.
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
  /** The whole attachment, if it is. */
  whole: (name: string) => Promise<WholeFile | undefined>
  /** Lets go of what the files hold open (the tab's IndexedDB), once the node stopped. */
  close?: () => Promise<void>
}

export interface PartFile {
  append: (bytes: Uint8Array) => Promise<void>
  /** Syncs and closes: what was appended survives a crash. */
  close: () => Promise<void>
}

/** A whole attachment, checked: where it is on disk, if it is on a disk, and its bytes. */
export interface WholeFile {
  /** Its path on Node.js, to stream from; absent in a browser tab, which has no file system. */
  path?: string
  /**
   * Its bytes as a Blob of `type`, read as they are consumed where the platform can (Node.js:
   * from the file on disk). A tab reads them from IndexedDB into the Blob: the page hands it
   * to the member as a download.
   */
  blob: (type: string) => Promise<Blob>
}
