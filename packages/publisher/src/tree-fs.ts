import { closeSync, constants, fstatSync, futimesSync, linkSync, lstatSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { fileTime } from './file-time.js'

/** What the tree writer asks of a name it finds. */
export interface TreeStat {
  isDirectory: () => boolean
  /** Permission bits as made (the writer tells stand-ins by them). */
  mode: number
}

/**
 * The file-system calls of the tree writer, with the errors of the real ones
 * (EEXIST, ENOENT, ENOTDIR as `code`): the disk, or the disk with no content
 * written (`namesOnlyTreeFs`, for `checkArchive`).
 */
export interface TreeFs {
  /** mkdir 0700. */
  mkdir: (path: Buffer) => void
  /** A new regular file (O_CREAT|O_EXCL|O_NOFOLLOW|O_WRONLY) with `mode`. */
  create: (path: Buffer, mode: number) => number
  write: (fd: number, chunk: Buffer) => void
  /** atime and mtime, whole seconds (nanoseconds are set at the end: exact-times.ts). */
  setTime: (fd: number, atime: number, mtime: number) => void
  close: (fd: number) => void
  /** lstat; undefined when the name does not exist (ENOTDIR is thrown). */
  lstat: (path: Buffer) => TreeStat | undefined
  /** Inode number of a name that exists. */
  ino: (path: Buffer) => bigint
  /** Inode number of an open file. */
  fino: (fd: number) => bigint
  link: (existing: Buffer, path: Buffer) => void
  unlink: (path: Buffer) => void
}

const CREATE = constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_WRONLY

export const diskTreeFs: TreeFs = {
  mkdir: (path) => mkdirSync(path, 0o700),
  create: (path, mode) => openSync(path, CREATE, mode),
  write: (fd, chunk) => {
    for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off)
  },
  setTime: (fd, atime, mtime) => futimesSync(fd, fileTime(atime), fileTime(mtime)),
  close: (fd) => closeSync(fd),
  lstat: (path) => lstatSync(path, { throwIfNoEntry: false }),
  ino: (path) => lstatSync(path, { bigint: true }).ino,
  fino: (fd) => fstatSync(fd, { bigint: true }).ino,
  link: (existing, path) => linkSync(existing, path),
  unlink: (path) => unlinkSync(path),
}

/**
 * The disk's calls with no content and no times written: every name is
 * made as an unpack makes it (empty files, folders 0700), so the kernel
 * answers every call exactly as it does for the real tree, at one inode per
 * name and no file data (`checkArchive`'s throwaway tree).
 */
export const namesOnlyTreeFs: TreeFs = {
  ...diskTreeFs,
  write: () => {},
  setTime: () => {},
}
