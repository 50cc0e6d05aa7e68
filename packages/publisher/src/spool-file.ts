import { closeSync, openSync, writeSync } from 'node:fs'

const BUFFER_BYTES = 256 * 1024

/** What a spool charges its file and each write to before making it (the unpack's SpaceWatch). */
export interface SpaceCharge {
  charge: (size: number, inodes: number) => void
}

/**
 * An append-only file of records written through one fixed buffer: what an
 * unpack must remember about each entry goes to disk as it arrives, so its
 * memory does not grow with the archive. Strings are written as latin1 (byte
 * strings). Synchronous, like the tree writer it serves. With `space`, its
 * inode and every write are charged there first, so a spool cannot eat into
 * the store's reserve (E_NO_SPACE instead).
 */
export class SpoolFile {
  readonly path: string
  readonly #fd: number
  readonly #space: SpaceCharge | undefined
  readonly #buf = Buffer.allocUnsafe(BUFFER_BYTES)
  #used = 0
  #open = true

  constructor (path: string, space?: SpaceCharge) {
    this.path = path
    this.#space = space
    space?.charge(0, 1)
    this.#fd = openSync(path, 'wx', 0o600)
  }

  append (text: string): void {
    const n = Buffer.byteLength(text, 'latin1')
    if (this.#used + n > BUFFER_BYTES) this.#flush()
    if (n > BUFFER_BYTES) {
      this.#write(Buffer.from(text, 'latin1'))
      return
    }
    this.#used += this.#buf.write(text, this.#used, 'latin1')
  }

  /** Write what is buffered and close the file (idempotent). */
  close (): void {
    if (!this.#open) return
    try {
      this.#flush()
    } finally {
      this.#open = false
      closeSync(this.#fd)
    }
  }

  #flush (): void {
    this.#write(this.#buf.subarray(0, this.#used))
    this.#used = 0
  }

  #write (bytes: Buffer): void {
    this.#space?.charge(bytes.length, 0)
    for (let off = 0; off < bytes.length;) off += writeSync(this.#fd, bytes, off)
  }
}
