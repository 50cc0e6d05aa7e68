import { open } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { READ_CHUNK } from '@xs-rsync/publisher'

/**
 * Lets a reader follow a file while `copyVerified` writes it: the copier
 * reports how many bytes are written, then that the copy is complete (its
 * hash checked) or failed. `stream()` gives the file's bytes as they land,
 * read back from the copy (the page cache), never from the stick, and ends
 * only when the copy is complete; it fails when the copy fails.
 */
export class CopyFollower {
  #written = 0
  #complete = false
  #error: Error | undefined
  #wake: (() => void) | undefined

  constructor (readonly path: string) {}

  wrote (total: number): void {
    this.#written = total
    this.#poke()
  }

  complete (): void {
    this.#complete = true
    this.#poke()
  }

  fail (er: unknown): void {
    this.#error = er instanceof Error ? er : new Error(String(er))
    this.#poke()
  }

  #poke (): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  /** Resolves once there is something new: bytes, the end, or a failure. */
  async #news (): Promise<void> {
    await new Promise<void>((resolve) => { this.#wake = resolve })
  }

  stream (): Readable {
    const self = this
    const read = async function * (): AsyncGenerator<Buffer> {
      while (self.#written === 0 && !self.#complete && self.#error === undefined) await self.#news()
      if (self.#error !== undefined) throw self.#error
      const fh = await open(self.path, 'r')
      try {
        let off = 0
        for (;;) {
          if (self.#error !== undefined) throw self.#error
          if (off < self.#written) {
            const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, self.#written - off))
            const { bytesRead } = await fh.read(buf, 0, buf.length, off)
            if (bytesRead === 0) throw new Error(`${self.path} is shorter than the bytes copied into it`)
            off += bytesRead
            yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead)
          } else if (self.#complete) {
            return
          } else {
            await self.#news()
          }
        }
      } finally {
        await fh.close()
      }
    }
    return Readable.from(read(), { objectMode: false })
  }
}
