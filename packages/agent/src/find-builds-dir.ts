import { lstat, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { XsError } from '@xs-rsync/core'

/** The folder the NOC puts builds in. FAT sticks may show it in any case. */
export const BUILDS_DIR_NAME = 'xs-xobuilds'

export const isBuildsDirName = (name: string): boolean => name.toLowerCase() === BUILDS_DIR_NAME

/**
 * Refuse anything but a real directory: a symlink on the stick could point
 * anywhere on the server.
 */
export const checkBuildsDir = async (path: string): Promise<string> => {
  const st = await lstat(path)
  if (!st.isDirectory()) {
    throw new XsError('E_MANIFEST', `${path} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}; ` +
      `${BUILDS_DIR_NAME} must be a plain folder`, { path })
  }
  return path
}

/**
 * The `xs-xobuilds` folder directly inside `dir` (name compared without case),
 * or null when there is none. Two candidates differing only in case are
 * refused: which one the NOC meant cannot be known.
 */
export const findBuildsDir = async (dir: string): Promise<string | null> => {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (er) {
    throw new XsError('E_IO', `cannot list ${dir}: ${(er as Error).message}`, { path: dir, cause: er })
  }
  const found = names.filter(isBuildsDirName).sort()
  if (found.length > 1) {
    throw new XsError('E_MANIFEST', `${dir} holds more than one builds folder: ${found.join(', ')}`,
      { path: dir, entry: found.join(', ') })
  }
  const name = found[0]
  return name === undefined ? null : checkBuildsDir(join(dir, name))
}
