import { createHash } from 'node:crypto'
import { lstat, open, unlink, type FileHandle } from 'node:fs/promises'
import { XsError, type ProgressMeter } from '@xs-rsync/core'
import type { HashAlgo } from './manifest.js'
import type { StickFile } from './manifest-files.js'
import { openStickFile } from './open-stick-file.js'

const CHUNK = 1024 * 1024

/** errno codes of a stick that went away or failed under us. */
const GONE = new Set(['EIO', 'ENODEV', 'ENXIO', 'ESTALE', 'ENOTCONN', 'ENOENT', 'EBADF', 'ESHUTDOWN'])

export interface CopyVerifiedOptions {
  /** The listed file, with the lstat taken when the stick was checked. */
  file: StickFile
  algo: HashAlgo
  /** Write the bytes here (a new file, O_EXCL); omitted = hash only (--check). */
  dest?: string
  /** Also return the bytes (small files: .name, .md5). */
  keep?: boolean
  meter?: Pick<ProgressMeter, 'add'>
  signal?: AbortSignal
  /** Told the bytes written to `dest` so far after each write (a CopyFollower). */
  onWritten?: (total: number) => void
}

export interface CopyVerifiedResult {
  bytes: number
  hash: string
  data?: Buffer
}

const changed = (file: StickFile, why: string, cause?: unknown): XsError =>
  new XsError('E_STICK_CHANGED', `${file.path} ${why}`, { path: file.path, entry: file.name, ...(cause !== undefined && { cause }) })

/**
 * Read a stick file exactly once, hashing every byte as it is copied to
 * `dest`, and compare with the manifest. The file must be the one checked
 * before (same inode, size, mtime), must not change while read (fstat
 * after), and must give exactly its size in bytes; otherwise, or on a read
 * error (stick pulled out), E_STICK_CHANGED. A hash mismatch, with the
 * manifest or with another manifest that lists the file (`file.also`), is
 * E_MANIFEST_MISMATCH. On any failure `dest` is removed.
 */
export const copyVerified = async (opts: CopyVerifiedOptions): Promise<CopyVerifiedResult> => {
  const { file } = opts
  const { fh: src, stat: before } = await openStickFile(file.path, 'E_MANIFEST_MISMATCH')
  let out: FileHandle | undefined
  let created = false
  try {
    if (before.ino !== file.ino || before.size !== file.size || before.mtimeMs !== file.mtimeMs) {
      throw changed(file, 'changed after it was checked')
    }
    if (opts.dest !== undefined) {
      out = await open(opts.dest, 'wx', 0o644)
      created = true
    }
    const hash = createHash(opts.algo)
    // the stick's other manifests that list this file must agree with its bytes too
    const also = (file.also ?? []).map((a) => ({ ...a, h: createHash(a.algo) }))
    const kept: Buffer[] = []
    const buf = Buffer.alloc(Math.min(CHUNK, Math.max(file.size, 1)))
    let total = 0
    for (;;) {
      opts.signal?.throwIfAborted()
      let n: number
      try {
        n = (await src.read(buf, 0, buf.length, null)).bytesRead
      } catch (er) {
        const errno = (er as NodeJS.ErrnoException).code ?? ''
        throw GONE.has(errno) ? changed(file, `could not be read: the stick was removed or failed (${errno})`, er) : er
      }
      if (n === 0) break
      total += n
      if (total > file.size) throw changed(file, `grew while it was read (more than ${file.size} bytes)`)
      const chunk = buf.subarray(0, n)
      hash.update(chunk)
      for (const a of also) a.h.update(chunk)
      if (opts.keep === true) kept.push(Buffer.from(chunk))
      if (out !== undefined) {
        await out.write(chunk)
        opts.onWritten?.(total)
      }
      opts.meter?.add(n)
    }
    if (total !== file.size) throw changed(file, `gave ${total} bytes instead of ${file.size} (short read)`)
    const after = await src.stat().catch((er: unknown) => { throw changed(file, 'could not be checked after reading', er) })
    const again = await lstat(file.path).catch((er: unknown) => { throw changed(file, 'disappeared while it was read', er) })
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || again.ino !== before.ino || !again.isFile()) {
      throw changed(file, 'changed while it was read')
    }
    const digest = hash.digest('hex')
    if (digest !== file.hash) {
      throw new XsError('E_MANIFEST_MISMATCH', `${file.path}: ${opts.algo} is ${digest}, the manifest says ${file.hash}`,
        { path: file.path, entry: file.name, expected: file.hash, actual: digest })
    }
    for (const a of also) {
      const d = a.h.digest('hex')
      if (d !== a.hash) {
        throw new XsError('E_MANIFEST_MISMATCH', `${file.path}: ${a.algo} is ${d}, but ${a.manifest} says ${a.hash} ` +
          `(the stick's manifests disagree about this file)`, { path: file.path, entry: file.name, expected: a.hash, actual: d })
      }
    }
    if (out !== undefined) {
      await out.sync()
      await out.close()
      out = undefined
    }
    return { bytes: total, hash: digest, ...(opts.keep === true && { data: Buffer.concat(kept) }) }
  } catch (er) {
    if (out !== undefined) await out.close().catch(() => {})
    if (created && opts.dest !== undefined) await unlink(opts.dest).catch(() => {})
    throw er
  } finally {
    await src.close().catch(() => {})
  }
}
