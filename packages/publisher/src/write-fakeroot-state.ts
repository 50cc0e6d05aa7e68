import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readdir, readFile, stat, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { atomicWrite } from '@xs-rsync/core'
import type { PublishLayout } from './publish-layout.js'
import { READ_CHUNK } from './read-chunk.js'

/** One tree's fakeroot save-file lines (ROOT/state/ownership/TREE.fakeroot) and what identifies its content. */
interface Part { path: string, size: bigint, mtimeNs: bigint, ino: bigint }

/**
 * The combined fakeroot state (ROOT/state/fakeroot.state) for `fakeroot -i`:
 * the save-file lines of every version tree still in pub/builds/.trees, so a
 * client pulling a just-replaced version keeps correct owners too. Written
 * atomically, and only when it changes (serve restarts the daemon when it
 * does). Streamed, so memory does not grow with the builds' entries; and
 * beside it, `fakeroot.state.parts` names each part's inode, size and mtime
 * and the combined file's own, so a refresh with nothing changed reads none
 * of them (20 builds of 120k entries are millions of lines).
 */
export const writeFakerootState = async (layout: PublishLayout): Promise<void> => {
  const parts = await fakerootParts(layout)
  const stampFile = `${layout.fakerootState}.parts`
  const combined = await identify(layout.fakerootState)
  if (combined !== undefined && await readFile(stampFile, 'utf8').catch(() => undefined) === renderStamp(parts, combined)) return
  // only a stale stamp: compare the content, so an unchanged file is not replaced (no daemon restart)
  const same = combined !== undefined &&
    await digest(chunksOf(parts)) === await digest(createReadStream(layout.fakerootState, { highWaterMark: READ_CHUNK }))
  if (!same) {
    await atomicWrite(layout.fakerootState, async (fh) => { await writeChunks(fh, chunksOf(parts)) }, 0o644)
  }
  const now = await identify(layout.fakerootState)
  if (now !== undefined) await atomicWrite(stampFile, renderStamp(parts, now), 0o644)
}

/** The parts, in tree order; a tree without its .fakeroot file (yet) is left out. */
const fakerootParts = async (layout: PublishLayout): Promise<Part[]> => {
  const parts: Part[] = []
  for (const tree of (await readdir(layout.trees)).sort()) {
    const part = await identify(join(layout.ownership, `${tree}.fakeroot`))
    if (part !== undefined) parts.push(part)
  }
  return parts
}

const identify = async (path: string): Promise<Part | undefined> => {
  try {
    const st = await stat(path, { bigint: true })
    return { path, size: st.size, mtimeNs: st.mtimeNs, ino: st.ino }
  } catch (er) {
    if ((er as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw er
  }
}

/** The stamp: one line per part, then the combined file's. Pure. */
export const renderStamp = (parts: readonly Part[], combined: Part): string =>
  [...parts, combined].map((p) => `${p.ino} ${p.size} ${p.mtimeNs} ${p.path}\n`).join('')

/** The combined content: each non-empty part, ending in a newline. */
async function * chunksOf (parts: readonly Part[]): AsyncGenerator<Buffer> {
  for (const p of parts) {
    let last = 0x0a
    for await (const chunk of createReadStream(p.path, { highWaterMark: READ_CHUNK })) {
      const b = chunk as Buffer
      if (b.length > 0) last = b[b.length - 1] as number
      yield b
    }
    if (last !== 0x0a) yield Buffer.from('\n')
  }
}

const digest = async (chunks: AsyncIterable<Buffer | string>): Promise<string> => {
  const h = createHash('sha256')
  for await (const c of chunks) h.update(c)
  return h.digest('hex')
}

const writeChunks = async (fh: FileHandle, chunks: AsyncIterable<Buffer>): Promise<void> => {
  for await (const c of chunks) {
    for (let off = 0; off < c.length;) off += (await fh.write(c, off)).bytesWritten
  }
}
