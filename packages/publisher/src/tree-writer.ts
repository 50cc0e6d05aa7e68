import { XsError, type Backend } from '@xs-rsync/core'
import { normalizeEntryPath, showPath, type PathLimits } from './entry-path.js'
import { checkMtime, entryTime } from './file-time.js'
import { diskTreeFs, type TreeFs, type TreeStat } from './tree-fs.js'
import { PAX_RAW_KEYS, type PaxRaw } from './tar-header-guard.js'
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, type InodeMeta } from './inode-meta.js'
import { metaRecord } from './ownership-records.js'
import type { SpoolFile } from './spool-file.js'

/** Where a regular file's content goes: each chunk in order, then `end`; `close` after a failure. */
export interface FileSink {
  write: (chunk: Buffer) => void
  end: () => void
  close: () => void
}

/** The fields of a tar-stream header the writer uses (names decoded as latin1; pax names come raw from the guard). */
export interface EntryHeader {
  name: string
  type: string | null
  mode: number
  uid: number
  gid: number
  mtime: Date
  size: number
  linkname: string | null
  devmajor: number
  devminor: number
  pax?: unknown
}

export interface WriterOptions {
  /** The directory to fill (exists, empty). */
  root: string
  backend: Backend
  limits: PathLimits & { maxEntries: number }
  /** When the unpack started (s): the mtime of directories the archive does not list, and every atime (as GNU tar). */
  now: number
  /** Raw pax values, one per entry whose pax header had one of PAX_RAW_KEYS (TarHeaderGuard.paxRaw). */
  paxRaw: PaxRaw[]
  /** Where the meta records go (see ownership-records.ts). */
  spool: Pick<SpoolFile, 'append'>
  /** The file-system calls (default: the disk; `namesOnlyTreeFs` writes no content). */
  fs?: TreeFs
}

const SPECIAL_TYPE: Record<string, number> = { 'character-device': S_IFCHR, 'block-device': S_IFBLK, fifo: S_IFIFO }
const MAX_ID = 2 ** 32 - 2

/**
 * On-disk mode of a symlink's stand-in: a regular file holding the target.
 * No other file the writer makes has it (files are 0600 or 0700), so the
 * tree itself tells a stand-in from a file.
 */
export const SYMLINK_STANDIN_MODE = 0o400

/** A pax header's text fields (tar-stream decodes them as UTF-8). */
const paxOf = (h: EntryHeader): Record<string, string> =>
  typeof h.pax === 'object' && h.pax !== null ? h.pax as Record<string, string> : {}

const errno = (er: unknown): string | undefined => (er as NodeJS.ErrnoException).code

/**
 * Writes tar entries below `root`, safe by construction. While it writes,
 * the tree holds only directories and regular files: a symlink is a
 * stand-in file holding its target (mode SYMLINK_STANDIN_MODE; rsync's
 * fake-super convention, and for the fakeroot backend turned into a real
 * symlink once the whole archive is written), a device or fifo an empty
 * file. With no symlink on disk, a name made of normal components (the
 * entry path checks allow nothing else) can only resolve inside `root`, so
 * the kernel itself refuses to write through a non-directory (ENOTDIR).
 * Files are created with O_EXCL|O_NOFOLLOW and harmless modes (0600/0700,
 * directories 0700, no setuid).
 *
 * The tree on disk is also the writer's only index of what it made: it
 * keeps nothing per entry in memory. What the archive says about each inode
 * (owner, full mode, device, times, capability) goes to `spool` as a meta
 * record keyed by the inode number, joined with the served names at the end.
 */
export class TreeWriter {
  readonly #o: WriterOptions
  readonly #fs: TreeFs
  readonly #rootBytes: Buffer
  /** Names made so far, the tree root and implicit parents included. */
  #names = 1
  #seq = 0

  constructor (opts: WriterOptions) {
    this.#o = opts
    this.#fs = opts.fs ?? diskTreeFs
    this.#rootBytes = Buffer.from(opts.root + '/')
    this.#record(this.#fs.ino(Buffer.from(opts.root)), this.#implicitDir())
  }

  /** Names made (each path once per time it was made), the tree root included. */
  get names (): number {
    return this.#names
  }

  /**
   * Take one entry's header and make what it names. For a regular file the
   * returned sink takes the content (`write` for each chunk, then `end`);
   * every other type has no content and is made at once (undefined). Throws
   * XsError for anything unsafe; after a throw from a sink, call its
   * `close` (the file is closed, the tree is discarded by the caller).
   */
  begin (h: EntryHeader): FileSink | undefined {
    const pax = paxOf(h)
    const raw = PAX_RAW_KEYS.some((k) => pax[k] !== undefined) ? this.#o.paxRaw.shift() : undefined
    const name = raw?.path ?? h.name
    // GNU tar makes such a name as it is ("a/." for a fifo is EEXIST there): refused, never served as "a"
    if (h.type !== 'directory' && /(?:^|\/)\.?$/.test(name)) throw unsafe(name, 'is not a directory but its name ends in "/" or "."')
    const rel = normalizeEntryPath(name, this.#o.limits)
    const meta = this.#meta(h, name, pax)
    if (raw?.capability !== undefined && h.type === 'file') meta.capability = raw.capability
    switch (h.type) {
      case 'directory':
        this.#dir(rel, meta)
        return undefined
      case 'file':
        return this.#file(rel, name, meta)
      case 'symlink': {
        const target = raw?.linkpath ?? h.linkname ?? ''
        if (target === '' || target.includes('\0') || target.length > this.#o.limits.maxPathBytes) {
          throw unsafe(name, `is a symlink with an empty, NUL-holding or over-long target`)
        }
        this.#standIn(rel, name, { ...meta, mode: S_IFLNK | 0o777 }, SYMLINK_STANDIN_MODE, Buffer.from(target, 'latin1'))
        return undefined
      }
      case 'link':
        this.#hardlink(rel, name, raw?.linkpath ?? h.linkname ?? '')
        return undefined
      default: {
        const type = SPECIAL_TYPE[h.type ?? '']
        if (type === undefined) throw unsafe(name, `has an unsupported type ${JSON.stringify(h.type)}`)
        // Never a device node or fifo on disk: an empty regular file stands in.
        this.#standIn(rel, name, { ...meta, mode: type | (meta.mode & 0o7777) }, 0o600)
        return undefined
      }
    }
  }

  #implicitDir (): InodeMeta {
    return { mode: S_IFDIR | 0o755, uid: 0, gid: 0, devmajor: 0, devminor: 0, mtime: this.#o.now, size: 0 }
  }

  #meta (h: EntryHeader, name: string, pax: Record<string, string>): InodeMeta {
    const num = (v: string | undefined, fallback: number): number => v === undefined || v === '' ? fallback : Number(v)
    const m: InodeMeta = {
      mode: (h.mode & 0o7777) | (h.type === 'directory' ? S_IFDIR : S_IFREG),
      uid: num(pax.uid, h.uid),
      gid: num(pax.gid, h.gid),
      devmajor: h.devmajor,
      devminor: h.devminor,
      mtime: 0,
      size: h.size,
    }
    const time = entryTime(pax.mtime, h.mtime)
    m.mtime = time.sec
    if (time.nsec !== 0) m.mtimeNsec = time.nsec
    const ids = [m.uid, m.gid, m.devmajor, m.devminor]
    if (!Number.isFinite(h.mode) || !ids.every((n) => Number.isInteger(n) && n >= 0 && n <= MAX_ID)) {
      throw new XsError('E_ARCHIVE_CORRUPT', `entry ${showPath(name)} has a malformed mode, owner or device field`, { entry: name })
    }
    checkMtime(m.mtime, name)
    return m
  }

  #path (rel: string): Buffer {
    return rel === '' ? Buffer.from(this.#o.root) : Buffer.concat([this.#rootBytes, Buffer.from(rel, 'latin1')])
  }

  #record (ino: bigint, meta: InodeMeta): void {
    this.#o.spool.append(metaRecord(ino, this.#seq++, meta))
  }

  #count (rel: string): void {
    if (++this.#names > this.#o.limits.maxEntries) throw unsafe(rel, `takes the archive over ${this.#o.limits.maxEntries} entries`)
  }

  /**
   * Make the missing parents of `rel` (implicit directories, 0755 root:root
   * for clients), deepest existing one first. Something other than a
   * directory on the way shows as ENOTDIR, now or at the entry itself.
   */
  #parents (rel: string, name: string): void {
    const last = rel.lastIndexOf('/')
    if (last < 0) return
    const parent = rel.slice(0, last)
    const path = this.#path(parent)
    try {
      this.#fs.mkdir(path)
    } catch (er) {
      if (errno(er) === 'EEXIST') return
      if (errno(er) === 'ENOTDIR') throw this.#through(rel, name)
      if (errno(er) !== 'ENOENT') throw er
      this.#parents(parent, name)
      this.#fs.mkdir(path)
    }
    this.#count(parent)
    this.#record(this.#fs.ino(path), this.#implicitDir())
  }

  /** The error for `rel` when one of its parents is not a directory. */
  #through (rel: string, name: string): XsError {
    let at = rel.indexOf('/')
    while (at >= 0) {
      const p = rel.slice(0, at)
      const st = this.#fs.lstat(this.#path(p))
      if (st !== undefined && !st.isDirectory()) {
        const what = (st.mode & 0o7777) === SYMLINK_STANDIN_MODE ? 'symlink' : 'non-directory'
        return unsafe(name, `writes through a ${what} ${showPath(p)}`)
      }
      at = rel.indexOf('/', at + 1)
    }
    return unsafe(name, 'writes through a non-directory')
  }

  /**
   * Run `make` (which creates `rel` as a non-directory and throws EEXIST
   * when something is there): parents are made first when missing, an
   * earlier non-directory is replaced (tar semantics), a directory never is.
   */
  #create<T> (rel: string, name: string, make: (path: Buffer) => T): T {
    if (rel === '') throw unsafe(name, 'names the tree root but is not a directory')
    const path = this.#path(rel)
    for (let attempt = 0; ; attempt++) {
      try {
        return make(path)
      } catch (er) {
        const code = errno(er)
        if (attempt >= 2) throw er
        if (code === 'ENOENT') this.#parents(rel, name)
        else if (code === 'ENOTDIR') throw this.#through(rel, name)
        else if (code === 'EEXIST') {
          if (this.#fs.lstat(path)?.isDirectory() === true) throw unsafe(name, 'would replace a directory')
          this.#fs.unlink(path)
        } else throw er
      }
    }
  }

  #dir (rel: string, meta: InodeMeta): void {
    const path = this.#path(rel)
    try {
      if (rel !== '') {
        try {
          this.#fs.mkdir(path)
        } catch (er) {
          if (errno(er) !== 'ENOENT') throw er
          this.#parents(rel, rel)
          this.#fs.mkdir(path)
        }
        this.#count(rel)
      }
    } catch (er) {
      if (errno(er) === 'ENOTDIR') throw this.#through(rel, rel)
      if (errno(er) !== 'EEXIST') throw er
      if (this.#fs.lstat(path)?.isDirectory() !== true) throw unsafe(rel, 'is a directory that would replace a non-directory')
      // listed again: its new metadata is recorded below and wins
    }
    this.#record(this.#fs.ino(path), meta)
  }

  #file (rel: string, name: string, meta: InodeMeta): FileSink {
    const fs = this.#fs
    const fd = this.#create(rel, name, (path) => fs.create(path, meta.mode & 0o111 ? 0o700 : 0o600))
    let open = true
    const close = (): void => {
      if (!open) return
      open = false
      fs.close(fd)
    }
    try {
      this.#count(rel)
      this.#record(fs.fino(fd), meta)
    } catch (er) {
      close()
      throw er
    }
    return {
      write: (chunk) => fs.write(fd, chunk),
      end: () => {
        try {
          fs.setTime(fd, this.#o.now, meta.mtime)
        } finally {
          close()
        }
      },
      close,
    }
  }

  /** An empty file (or one holding `content`) standing in for a symlink, device or fifo. */
  #standIn (rel: string, name: string, meta: InodeMeta, diskMode: number, content?: Buffer): void {
    const fs = this.#fs
    const fd = this.#create(rel, name, (path) => fs.create(path, diskMode))
    try {
      this.#count(rel)
      if (content !== undefined) fs.write(fd, content)
      fs.setTime(fd, this.#o.now, meta.mtime)
      this.#record(fs.fino(fd), meta)
    } finally {
      fs.close(fd)
    }
  }

  #hardlink (rel: string, name: string, linkname: string): void {
    const target = normalizeEntryPath(linkname, this.#o.limits, `hardlink target of ${showPath(name)}:`)
    let st: TreeStat | undefined
    try {
      st = this.#fs.lstat(this.#path(target))
    } catch (er) {
      if (errno(er) !== 'ENOTDIR') throw er
    }
    if (st === undefined) throw unsafe(name, `is a hardlink to ${showPath(linkname)}, which is not an earlier entry of the archive`)
    if (st.isDirectory()) throw unsafe(name, `is a hardlink to the directory ${showPath(linkname)}`)
    if (target === rel) throw unsafe(name, 'is a hardlink to itself')
    // the inode and its meta record are shared: nothing new to record
    this.#create(rel, name, (path) => this.#fs.link(this.#path(target), path))
    this.#count(rel)
  }
}

const unsafe = (name: string, why: string): XsError =>
  new XsError('E_ARCHIVE_UNSAFE', `entry ${showPath(name)} ${why}`, { entry: name })
