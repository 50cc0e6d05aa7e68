import { lstatSync, opendirSync } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fsPath } from './entry-path.js'

/** Names as Buffers (any bytes); Node takes 'buffer' here though its types do not say so. */
const BYTE_NAMES = { encoding: 'buffer' as BufferEncoding }

const PRISTINE = 'versions/pristine'

/**
 * The tree to serve: the first (byte order) directory directly under
 * versions/pristine/ of the unpacked `tree`, or undefined to serve the whole
 * tree minus versions/. Read from the tree itself (which holds only
 * directories and regular files), one name at a time.
 */
export const choosePristine = (tree: string): string | undefined => {
  for (const p of ['versions', PRISTINE]) {
    if (lstatSync(join(tree, p), { throwIfNoEntry: false })?.isDirectory() !== true) return undefined
  }
  const dir = opendirSync(join(tree, PRISTINE), BYTE_NAMES)
  let first: Buffer | undefined
  try {
    for (let d = dir.readSync(); d !== null; d = dir.readSync()) {
      const name = d.name as unknown as Buffer
      // a file system that does not fill in d_type: ask lstat
      const isDir = d.isDirectory() || (!d.isFile() && lstatSync(Buffer.concat([fsPath(tree, PRISTINE), Buffer.from('/'), name])).isDirectory())
      if (isDir && (first === undefined || Buffer.compare(name, first) < 0)) first = Buffer.from(name)
    }
  } finally {
    dir.closeSync()
  }
  return first === undefined ? undefined : `${PRISTINE}/${first.toString('latin1')}`
}

/** Move the served tree from `tree` to `root` (same filesystem) and remove the rest. */
export const commitServedTree = async (tree: string, root: string, pristine: string | undefined): Promise<void> => {
  if (pristine === undefined) {
    await rm(join(tree, 'versions'), { recursive: true, force: true })
    await rename(tree, root)
    return
  }
  await rename(fsPath(tree, pristine), root)
  await rm(tree, { recursive: true, force: true })
}
