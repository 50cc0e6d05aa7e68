import { constants, type Stats } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { XsError, type ErrorCode } from '@xs-rsync/core'

export interface OpenedStickFile {
  fh: FileHandle
  /** fstat of the open file: what is read is this file, whatever the path points at later. */
  stat: Stats
}

/**
 * Open a file on the stick for reading without following a symlink
 * (O_NOFOLLOW) and without blocking on a fifo (O_NONBLOCK), then fstat the fd:
 * only a regular file is accepted. Refusals are `code` naming `path`.
 */
export const openStickFile = async (path: string, code: ErrorCode): Promise<OpenedStickFile> => {
  let fh: FileHandle
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (er) {
    const errno = (er as NodeJS.ErrnoException).code
    const why = errno === 'ELOOP' ? 'is a symbolic link'
      : errno === 'ENOENT' ? 'is missing'
        : `cannot be opened (${(er as Error).message})`
    throw new XsError(errno === 'ENOENT' || errno === 'ELOOP' ? code : 'E_IO', `${path} ${why}`, { path, cause: er })
  }
  try {
    const stat = await fh.stat()
    if (!stat.isFile()) throw new XsError(code, `${path} is not a regular file`, { path })
    return { fh, stat }
  } catch (er) {
    await fh.close()
    throw er
  }
}
