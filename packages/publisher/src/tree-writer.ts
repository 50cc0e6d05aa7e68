import { closeSync, constants, futimesSync, linkSync, lutimesSync, mkdirSync, openSync, symlinkSync, unlinkSync, utimesSync, writeSync } from 'node:fs'
import { XsError, type Backend } from '@xs-rsync/core'
import { fsPath, normalizeEntryPath, showPath, type PathLimits } from './entry-path.js'
import { PAX_RAW_KEYS, type PaxRaw } from './tar-header-guard.js'
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, type InodeMeta, type ServedEntry } from './inode-meta.js'

export type NodeKind = 'dir' | 'file' | 'symlink' | 'special'

/** Where a regular file's content goes: each chunk in order, then `end`; `close` after a failure. */
export interface FileSink {
  write: (chunk: Buffer) => void
  end: () => void
  close: () => void
}

/** What the writer made at one path; hardlinked names share `meta`. */
export interface TreeNode {
  kind: NodeKind
  meta: InodeMeta
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
  /** mtime (s) for directories the archive does not list. */
  now: number
  /** Raw pax values, one per entry whose pax header had one of PAX_RAW_KEYS (TarHeaderGuard.paxRaw). */
  paxRaw: PaxRaw[]
}

const CREATE = constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_WRONLY
const SPECIAL_TYPE: Record<string, number> = { 'character-device': S_IFCHR, 'block-device': S_IFBLK, fifo: S_IFIFO }
const MAX_ID = 2 ** 32 - 2

/** A pax header's text fields (tar-stream decodes them as UTF-8). */
const paxOf = (h: EntryHeader): Record<string, string> =>
  typeof h.pax === 'object' && h.pax !== null ? h.pax as Record<string, string> : {}

/**
 * Writes tar entries below `root`, safe by construction: it only ever writes
 * inside directories it created itself (tracked in `nodes`), creates with
 * O_EXCL|O_NOFOLLOW, never follows or resolves symlinks, and keeps on-disk
 * modes harmless (files 0600/0700, dirs 0700, no setuid, no device nodes or
 * fifos). What the archive says about each inode is kept in `nodes` for the
 * ownership backends.
 */
export class TreeWriter {
  readonly nodes = new Map<string, TreeNode>()
  readonly #o: WriterOptions

  constructor (opts: WriterOptions) {
    this.#o = opts
    this.nodes.set('', { kind: 'dir', meta: this.#implicitDir() })
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
        this.#symlink(rel, name, { ...meta, mode: S_IFLNK | 0o777 }, target)
        return undefined
      }
      case 'link':
        this.#hardlink(rel, name, raw?.linkpath ?? h.linkname ?? '')
        return undefined
      default: {
        const type = SPECIAL_TYPE[h.type ?? '']
        if (type === undefined) throw unsafe(name, `has an unsupported type ${JSON.stringify(h.type)}`)
        this.#special(rel, name, { ...meta, mode: type | (meta.mode & 0o7777) })
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
      mtime: num(pax.mtime, h.mtime.getTime() / 1000),
      size: h.size,
    }
    const ids = [m.uid, m.gid, m.devmajor, m.devminor]
    if (!Number.isFinite(h.mode) || !ids.every((n) => Number.isInteger(n) && n >= 0 && n <= MAX_ID) || !Number.isFinite(m.mtime)) {
      throw new XsError('E_ARCHIVE_CORRUPT', `entry ${showPath(name)} has a malformed mode, owner, device or time field`, { entry: name })
    }
    return m
  }

  #add (rel: string, node: TreeNode): void {
    this.nodes.set(rel, node)
    if (this.nodes.size > this.#o.limits.maxEntries) throw unsafe(rel, `takes the archive over ${this.#o.limits.maxEntries} entries`)
  }

  /** Make sure every parent of `rel` is a directory we made; create missing ones. */
  #parents (rel: string, name: string): void {
    const last = rel.lastIndexOf('/')
    if (last < 0) return
    // A directory node is only added once all its parents are directories,
    // and is never replaced or removed: its parents need no second look.
    if (this.nodes.get(rel.slice(0, last))?.kind === 'dir') return
    let at = rel.indexOf('/')
    while (at >= 0) {
      const p = rel.slice(0, at)
      const node = this.nodes.get(p)
      if (node === undefined) {
        mkdirSync(fsPath(this.#o.root, p), 0o700)
        this.#add(p, { kind: 'dir', meta: this.#implicitDir() })
      } else if (node.kind !== 'dir') {
        throw unsafe(name, `writes through a ${node.kind === 'symlink' ? 'symlink' : 'non-directory'} ${showPath(p)}`)
      }
      at = rel.indexOf('/', at + 1)
    }
  }

  /** Prepare `rel` for a new non-directory: parents exist; an earlier non-directory is replaced (tar semantics). */
  #place (rel: string, name: string): Buffer {
    if (rel === '') throw unsafe(name, 'names the tree root but is not a directory')
    this.#parents(rel, name)
    const path = fsPath(this.#o.root, rel)
    const old = this.nodes.get(rel)
    if (old?.kind === 'dir') throw unsafe(name, 'would replace a directory')
    if (old !== undefined) {
      unlinkSync(path)
      this.nodes.delete(rel)
    }
    return path
  }

  #dir (rel: string, meta: InodeMeta): void {
    const old = this.nodes.get(rel)
    if (old !== undefined) {
      if (old.kind !== 'dir') throw unsafe(rel, 'is a directory that would replace a non-directory')
      old.meta = meta
      return
    }
    this.#parents(rel, rel)
    mkdirSync(fsPath(this.#o.root, rel), 0o700)
    this.#add(rel, { kind: 'dir', meta })
  }

  #file (rel: string, name: string, meta: InodeMeta): FileSink {
    const fd = openSync(this.#place(rel, name), CREATE, meta.mode & 0o111 ? 0o700 : 0o600)
    let open = true
    const close = (): void => {
      if (!open) return
      open = false
      closeSync(fd)
    }
    try {
      this.#add(rel, { kind: 'file', meta })
    } catch (er) {
      close()
      throw er
    }
    return {
      write: (chunk) => {
        for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off)
      },
      end: () => {
        try {
          futimesSync(fd, meta.mtime, meta.mtime)
        } finally {
          close()
        }
      },
      close,
    }
  }

  #symlink (rel: string, name: string, meta: InodeMeta, target: string): void {
    const path = this.#place(rel, name)
    const bytes = Buffer.from(target, 'latin1')
    if (this.#o.backend === 'fakeroot') {
      symlinkSync(bytes, path)
      lutimesSync(path, meta.mtime, meta.mtime)
    } else {
      // rsync's fake-super convention: a regular file holding the target, %stat mode 120777.
      this.#emptyFile(path, meta, bytes)
    }
    this.#add(rel, { kind: 'symlink', meta })
  }

  #special (rel: string, name: string, meta: InodeMeta): void {
    // Never a device node or fifo on disk: an empty regular file stands in.
    this.#emptyFile(this.#place(rel, name), meta)
    this.#add(rel, { kind: 'special', meta })
  }

  #emptyFile (path: Buffer, meta: InodeMeta, content?: Buffer): void {
    const fd = openSync(path, CREATE, 0o600)
    try {
      if (content !== undefined) writeSync(fd, content)
      futimesSync(fd, meta.mtime, meta.mtime)
    } finally {
      closeSync(fd)
    }
  }

  #hardlink (rel: string, name: string, linkname: string): void {
    const target = normalizeEntryPath(linkname, this.#o.limits, `hardlink target of ${showPath(name)}:`)
    const node = this.nodes.get(target)
    if (node === undefined) throw unsafe(name, `is a hardlink to ${showPath(linkname)}, which is not an earlier entry of the archive`)
    if (node.kind === 'dir') throw unsafe(name, `is a hardlink to the directory ${showPath(linkname)}`)
    if (target === rel) throw unsafe(name, 'is a hardlink to itself')
    linkSync(fsPath(this.#o.root, target), this.#place(rel, name))
    this.#add(rel, node)
  }
}

const unsafe = (name: string, why: string): XsError =>
  new XsError('E_ARCHIVE_UNSAFE', `entry ${showPath(name)} ${why}`, { entry: name })

const depth = (p: string): number => p === '' ? 0 : p.split('/').length

/** Set directory mtimes in a finished tree, deepest first (writing inside a directory changes its mtime). */
export const setDirTimes = (root: string, entries: Iterable<ServedEntry>): void => {
  const dirs = [...entries].filter((e) => (e.meta.mode & S_IFMT) === S_IFDIR)
  dirs.sort((a, b) => depth(b.path) - depth(a.path))
  for (const d of dirs) utimesSync(fsPath(root, d.path), d.meta.mtime, d.meta.mtime)
}

