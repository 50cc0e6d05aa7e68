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
 * (EEXIST, ENOENT, ENOTDIR as `code`): the disk, or an index in memory that
 * checks every entry exactly as the disk would, writing nothing
 * (`checkArchive`).
 */
export interface TreeFs {
  /** mkdir 0700. */
  mkdir: (path: Buffer) => void
  /** A new regular file (O_CREAT|O_EXCL|O_NOFOLLOW|O_WRONLY) with `mode`. */
  create: (path: Buffer, mode: number) => number
  write: (fd: number, chunk: Buffer) => void
  setTime: (fd: number, mtime: number) => void
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
  setTime: (fd, mtime) => futimesSync(fd, fileTime(mtime), fileTime(mtime)),
  close: (fd) => closeSync(fd),
  lstat: (path) => lstatSync(path, { throwIfNoEntry: false }),
  ino: (path) => lstatSync(path, { bigint: true }).ino,
  fino: (fd) => fstatSync(fd, { bigint: true }).ino,
  link: (existing, path) => linkSync(existing, path),
  unlink: (path) => unlinkSync(path),
}

interface MemNode {
  dir: boolean
  mode: number
  ino: bigint
}

const fsError = (code: string, path: Buffer): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: ${path.toString('latin1')}`), { code })

/**
 * The tree as an index in memory: one small record per name, nothing
 * written. It answers as the disk would for the writer's calls, so a check
 * refuses exactly what an unpack refuses. Its memory grows with the names
 * (the heap watch bounds it); an unpack's does not.
 */
export class MemTreeFs implements TreeFs {
  readonly #nodes = new Map<string, MemNode>()
  readonly #fds = new Map<number, bigint>()
  #ino = 1n
  #fd = 1

  constructor (root: string) {
    this.#nodes.set(root, { dir: true, mode: 0o700, ino: this.#ino++ })
  }

  /** ENOENT or ENOTDIR for a name whose parent is missing or not a folder; undefined when it can be made. */
  #parentError (key: string): string | undefined {
    const slash = key.lastIndexOf('/')
    const parent = this.#nodes.get(key.slice(0, slash))
    if (parent !== undefined) return parent.dir ? undefined : 'ENOTDIR'
    // missing: ENOTDIR when some ancestor is a file, as the kernel says
    for (let at = key.lastIndexOf('/', slash - 1); at > 0; at = key.lastIndexOf('/', at - 1)) {
      const up = this.#nodes.get(key.slice(0, at))
      if (up !== undefined) return up.dir ? 'ENOENT' : 'ENOTDIR'
    }
    return 'ENOENT'
  }

  #make (path: Buffer, node: MemNode): void {
    const key = path.toString('latin1')
    if (this.#nodes.has(key)) throw fsError('EEXIST', path)
    const er = this.#parentError(key)
    if (er !== undefined) throw fsError(er, path)
    this.#nodes.set(key, node)
  }

  mkdir (path: Buffer): void {
    this.#make(path, { dir: true, mode: 0o700, ino: this.#ino++ })
  }

  create (path: Buffer, mode: number): number {
    const ino = this.#ino++
    this.#make(path, { dir: false, mode, ino })
    const fd = this.#fd++
    this.#fds.set(fd, ino)
    return fd
  }

  write (): void {}
  setTime (): void {}

  close (fd: number): void {
    this.#fds.delete(fd)
  }

  lstat (path: Buffer): TreeStat | undefined {
    const key = path.toString('latin1')
    const node = this.#nodes.get(key)
    if (node === undefined) {
      if (this.#parentError(key) === 'ENOTDIR') throw fsError('ENOTDIR', path)
      return undefined
    }
    return { isDirectory: () => node.dir, mode: node.mode }
  }

  ino (path: Buffer): bigint {
    const node = this.#nodes.get(path.toString('latin1'))
    if (node === undefined) throw fsError('ENOENT', path)
    return node.ino
  }

  fino (fd: number): bigint {
    return this.#fds.get(fd) ?? 0n
  }

  link (existing: Buffer, path: Buffer): void {
    const from = this.#nodes.get(existing.toString('latin1'))
    if (from === undefined) throw fsError('ENOENT', existing)
    this.#make(path, from)
  }

  unlink (path: Buffer): void {
    const key = path.toString('latin1')
    const node = this.#nodes.get(key)
    if (node === undefined) throw fsError('ENOENT', path)
    if (node.dir) throw fsError('EISDIR', path)
    this.#nodes.delete(key)
  }
}
