/** File type bits of st_mode. */
export const S_IFMT = 0o170000
export const S_IFREG = 0o100000
export const S_IFDIR = 0o040000
export const S_IFLNK = 0o120000
export const S_IFCHR = 0o020000
export const S_IFBLK = 0o060000
export const S_IFIFO = 0o010000

/** What the archive says about one inode, kept for clients (hardlinked names share one). */
export interface InodeMeta {
  /** Full st_mode: type bits and permissions incl. setuid/setgid/sticky. */
  mode: number
  uid: number
  gid: number
  devmajor: number
  devminor: number
  /** Whole seconds since the epoch (toward minus infinity; may be negative). */
  mtime: number
  /** Nanoseconds after `mtime` (pax times; absent = 0). Node cannot set them: see file-time.ts. */
  mtimeNsec?: number
  /** Bytes of content (regular files only). */
  size: number
  /** security.capability xattr value (regular files, from pax SCHILY.xattr). */
  capability?: Buffer
}

/** One name in the served tree: path relative to its root ('' = the root), byte string. */
export interface ServedEntry {
  path: string
  meta: InodeMeta
}
