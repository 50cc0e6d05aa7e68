import { S_IFBLK, S_IFCHR, S_IFMT, type InodeMeta } from './inode-meta.js'

/** glibc makedev(major, minor) as fakeroot stores rdev (1,3 -> 259; 8,1 -> 2049). */
export const makedev = (major: number, minor: number): bigint => {
  const ma = BigInt(major)
  const mi = BigInt(minor)
  return ((ma & 0xfffn) << 8n) | ((ma & 0xfffff000n) << 32n) | (mi & 0xffn) | ((mi & 0xffffff00n) << 12n)
}

/** One inode of the served tree: its real dev/ino/nlink (lstat at the final place) and the archive's metadata. */
export interface FakerootInode {
  dev: bigint
  ino: bigint
  nlink: bigint
  meta: InodeMeta
}

/**
 * fakeroot's save file (`fakeroot -i`), one line per inode:
 * dev=%llx,ino=%llu,mode=%llo,uid=%llu,gid=%llu,nlink=%llu,rdev=%llu. Pure.
 */
export const renderFakerootState = (inodes: Iterable<FakerootInode>): string => {
  let out = ''
  for (const { dev, ino, nlink, meta } of inodes) {
    const type = meta.mode & S_IFMT
    const rdev = type === S_IFCHR || type === S_IFBLK ? makedev(meta.devmajor, meta.devminor) : 0n
    out += `dev=${dev.toString(16)},ino=${ino},mode=${meta.mode.toString(8)},uid=${meta.uid},gid=${meta.gid},nlink=${nlink},rdev=${rdev}\n`
  }
  return out
}
