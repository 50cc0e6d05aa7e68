import { XsError } from '@xs-rsync/core'
import { showPath } from './entry-path.js'

/**
 * Largest |mtime| (seconds) xs-rsync restores: what a JavaScript Date holds.
 * Further out the kernel would clamp it to the file system's range anyway
 * (ext4: 1901..2446) but could not be asked for it exactly.
 */
export const MAX_MTIME_SECONDS = 8.64e12

/**
 * An mtime as Node's utimes/futimes take it without changing it. Node turns
 * a negative number into "now" (GNU tar restores 1969 as 1969), but reads a
 * numeric string as it is: "-86400" sets 1969-12-31. Resolution is a
 * microsecond (libuv), as for any number.
 */
export const fileTime = (mtime: number): string => String(mtime)

/** Throws E_ARCHIVE_UNSAFE for an mtime that is not finite or beyond MAX_MTIME_SECONDS. */
export const checkMtime = (mtime: number, entry: string): void => {
  if (!Number.isFinite(mtime) || Math.abs(mtime) > MAX_MTIME_SECONDS) {
    throw new XsError('E_ARCHIVE_UNSAFE', `entry ${showPath(entry)} has a modification time out of range (${String(mtime)}; xs-rsync restores times within ±${MAX_MTIME_SECONDS} s)`, { entry })
  }
}
