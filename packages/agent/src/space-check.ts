import { statfs } from 'node:fs/promises'
import { dirname } from 'node:path'
import { XsError } from '@xs-rsync/core'

/**
 * Unpacked size of a build, as a multiple of its compressed tarball. OLPC OS
 * trees compress about 2.5-3x with bzip2 and xz/lzma; the tarball stays in
 * xobuilds-packed too, so a build needs about 1 + 3 = 4x its tarball size.
 */
export const UNPACK_RATIO = 3

const MB = 1024 * 1024

export interface SpaceNeed {
  /** Bytes copied from the stick into the store. */
  copy: number
  /** Estimated unpacked trees: tarball bytes x UNPACK_RATIO. */
  unpacked: number
  /** config.reserveBytes: kept free. */
  reserve: number
  total: number
}

/** What a stick needs on the store. Pure. */
export const spaceNeeded = (copyBytes: number, tarballBytes: number, reserve: number): SpaceNeed => {
  const unpacked = tarballBytes * UNPACK_RATIO
  return { copy: copyBytes, unpacked, reserve, total: copyBytes + unpacked + reserve }
}

const mb = (n: number): string => `${Math.ceil(n / MB)} MB`

/** "1200 MB (copy 300 MB + unpacked trees about 900 MB + reserve 512 MB, the "reserve" setting)" */
export const describeNeed = (need: SpaceNeed): string =>
  `${mb(need.total)} (copy ${mb(need.copy)} + unpacked trees about ${mb(need.unpacked)} + reserve ${mb(need.reserve)}, the "reserve" setting)`

/**
 * Free bytes for an unprivileged writer on the filesystem that holds, or will
 * hold, `dir` (its nearest existing ancestor when it does not exist yet).
 */
export const freeBytes = async (dir: string): Promise<number> => {
  for (let d = dir; ; d = dirname(d)) {
    try {
      const s = await statfs(d)
      return s.bavail * s.bsize
    } catch (er) {
      if ((er as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(d) === d) throw er
    }
  }
}

/** E_NO_SPACE saying how much is needed and how much is free, unless `dir` has room. */
export const checkSpace = async (dir: string, need: SpaceNeed): Promise<{ free: number }> => {
  const free = await freeBytes(dir)
  if (free < need.total) {
    throw new XsError('E_NO_SPACE', `the store ${dir} needs ${describeNeed(need)} but has ${mb(free)} free`,
      { path: dir, expected: need.total, actual: free })
  }
  return { free }
}
