import { open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { isProcessAlive as alive } from './is-process-alive.js'

/** fsync a directory so a rename inside it survives power loss. */
export const fsyncDir = async (dir: string): Promise<void> => {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/**
 * Replace `file` with `data` atomically: temp file in the same folder
 * (O_EXCL), fsync, rename over, fsync the folder. Readers see the old or the
 * new content, never a mix; on failure the temp file is removed.
 * `chmod: false` leaves the mode to the filesystem (FAT refuses chmod).
 * `data` may be a function that writes the content to the temp file's
 * handle, for content too large to hold in memory.
 */
export const atomicWrite = async (file: string, data: string | Uint8Array | ((fh: FileHandle) => Promise<void>), mode = 0o644,
  opts: { chmod?: boolean } = {}): Promise<void> => {
  const dir = dirname(file)
  const tmp = join(dir, `.${basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
  const fh = await open(tmp, 'wx', mode)
  try {
    try {
      if (typeof data === 'function') await data(fh)
      else await fh.writeFile(data)
      if (opts.chmod !== false) await fh.chmod(mode)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, file)
  } catch (er) {
    await unlink(tmp).catch(() => {})
    throw er
  }
  await fsyncDir(dir)
}

const TEMP_RE = /^\.(.+)\.tmp-(\d+)-[0-9a-f]{8}$/

/** The target name and writer pid of an atomicWrite temp file name, or undefined. Pure. */
export const parseAtomicTemp = (name: string): { target: string, pid: number } | undefined => {
  const m = TEMP_RE.exec(name)
  return m === null ? undefined : { target: m[1] ?? '', pid: Number(m[2]) }
}

/**
 * Remove the temp files that atomicWrite calls left in `dir` when their
 * process was killed between creating and renaming them (only those whose
 * writer is gone; with `target`, only the temps of that file name).
 * Returns the names removed.
 */
export const removeStaleAtomicTemps = async (dir: string, target?: string): Promise<string[]> => {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of names) {
    const t = parseAtomicTemp(name)
    if (t === undefined || (target !== undefined && t.target !== target) || t.pid === process.pid || alive(t.pid)) continue
    await unlink(join(dir, name)).then(() => removed.push(name), () => {})
  }
  return removed
}
