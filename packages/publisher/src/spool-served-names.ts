import { lstatSync, opendirSync, readFileSync, symlinkSync, unlinkSync, type BigIntStats, type Dir } from 'node:fs'
import type { Backend } from '@xs-rsync/core'
import { fsPath } from './entry-path.js'
import { nameRecord } from './ownership-records.js'
import type { SpoolFile } from './spool-file.js'
import { SYMLINK_STANDIN_MODE } from './tree-writer.js'

/** Names as Buffers (any bytes); Node takes 'buffer' here though its types do not say so. */
const BYTE_NAMES = { encoding: 'buffer' as BufferEncoding }

/**
 * Walk the finished tree `root` (the tree writer's output, already moved to
 * where it is served) and spool one name record per name, the root ('')
 * included. For the fakeroot backend each symlink stand-in becomes a real
 * symlink here, once nothing else is written into the tree; its record keeps
 * the stand-in's inode as key (that is where its meta records are). Memory:
 * one open directory per level, whatever the tree's size. Returns the names.
 */
export const spoolServedNames = (root: string, backend: Backend, spool: SpoolFile): number => {
  let names = 0
  const visit = (rel: string): BigIntStats => {
    const path = fsPath(root, rel)
    const st = lstatSync(path, { bigint: true })
    if (backend === 'fakeroot' && st.isFile() && (st.mode & 0o7777n) === BigInt(SYMLINK_STANDIN_MODE)) {
      const target = readFileSync(path)
      unlinkSync(path)
      symlinkSync(target, path)
      const now = lstatSync(path, { bigint: true })
      spool.append(nameRecord(st.ino, true, now.dev, now.ino, now.nlink, rel))
    } else {
      spool.append(nameRecord(st.ino, false, st.dev, st.ino, st.nlink, rel))
    }
    names++
    return st
  }
  visit('')
  const stack: { dir: Dir, rel: string }[] = [{ dir: opendirSync(root, BYTE_NAMES), rel: '' }]
  try {
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { dir: Dir, rel: string }
      const d = top.dir.readSync()
      if (d === null) {
        top.dir.closeSync()
        stack.pop()
        continue
      }
      const name = (d.name as unknown as Buffer).toString('latin1')
      const rel = top.rel === '' ? name : `${top.rel}/${name}`
      if (visit(rel).isDirectory()) stack.push({ dir: opendirSync(fsPath(root, rel), BYTE_NAMES), rel })
    }
  } finally {
    for (const { dir } of stack) dir.closeSync()
  }
  return names
}
