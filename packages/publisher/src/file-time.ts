import { XsError } from '@xs-rsync/core'
import { showPath } from './entry-path.js'

/**
 * Largest |mtime| (seconds) xs-rsync restores: what a JavaScript Date holds.
 * Further out the kernel would clamp it to the file system's range anyway
 * (ext4: 1901..2446) but could not be asked for it exactly.
 */
export const MAX_MTIME_SECONDS = 8.64e12

/** A time to the nanosecond, as GNU tar keeps it: `sec` whole seconds (may be negative), `nsec` 0..999999999 after it. */
export interface ExactTime {
  sec: number
  nsec: number
}

const BILLION = 1_000_000_000

/**
 * A pax time (`-?DIGITS[.DIGITS]`, checked by the header guard) as GNU tar
 * 1.34 reads it (decode_timespec): nanoseconds, digits beyond the ninth
 * rounding toward minus infinity, so `-1.5` is 0.5 s after -2. `sec` is a
 * JavaScript number: exact within ±MAX_MTIME_SECONDS (checkMtime refuses
 * the rest). Pure.
 */
export const parsePaxTime = (text: string): ExactTime => {
  const negative = text.startsWith('-')
  const [whole = '', fraction = ''] = text.slice(negative ? 1 : 0).split('.')
  const sec = Number(whole)
  const nsec = Number(fraction.slice(0, 9).padEnd(9, '0'))
  if (!negative) return { sec, nsec }
  const up = nsec + (/[1-9]/.test(fraction.slice(9)) ? 1 : 0)
  return up === 0 ? { sec: -sec, nsec: 0 } : { sec: -sec - 1, nsec: BILLION - up }
}

/**
 * An entry's mtime: its pax `mtime` record when it has one, else the header's
 * whole seconds (tar-stream's Date). Pure.
 */
export const entryTime = (paxMtime: string | undefined, header: Date | undefined): ExactTime =>
  paxMtime === undefined || paxMtime === '' ? { sec: Math.floor((header?.getTime() ?? 0) / 1000), nsec: 0 } : parsePaxTime(paxMtime)

/**
 * An exact time as a decimal number of seconds with nine digits, the value
 * it means (`-1.500000000` for 0.5 s after -2): what GNU `touch -d @TEXT`
 * takes and `stat -c %.9Y` prints. Pure.
 */
export const exactTimeText = (t: ExactTime): string => {
  if (t.sec < 0 && t.nsec > 0) return `-${-(t.sec + 1)}.${String(BILLION - t.nsec).padStart(9, '0')}`
  return `${t.sec}.${String(t.nsec).padStart(9, '0')}`
}

/** `exactTimeText` of a stat's bigint mtimeNs. Pure. */
export const nsTimeText = (ns: bigint): string => {
  const b = BigInt(BILLION)
  const sec = ns >= 0n ? ns / b : -((-ns + b - 1n) / b)
  return exactTimeText({ sec: Number(sec), nsec: Number(ns - sec * b) })
}

/**
 * Whole seconds as Node's utimes/futimes take them without changing them.
 * Node turns a negative number into "now" (GNU tar restores 1969 as 1969),
 * but reads a numeric string as it is: "-86400" sets 1969-12-31. Node cannot
 * set nanoseconds: its times are doubles, which libuv truncates to the
 * microsecond (and a double near 1.8e9 s is only within 119 ns, so even a
 * microsecond time comes out 1 µs early about half the time). Fractions are
 * set by `applyExactTimes` (one perl process calling utimensat, or GNU touch).
 */
export const fileTime = (sec: number): string => String(sec)

/** Throws E_ARCHIVE_UNSAFE for an mtime that is not finite or beyond MAX_MTIME_SECONDS. */
export const checkMtime = (mtime: number, entry: string): void => {
  if (!Number.isFinite(mtime) || Math.abs(mtime) > MAX_MTIME_SECONDS) {
    throw new XsError('E_ARCHIVE_UNSAFE', `entry ${showPath(entry)} has a modification time out of range (${String(mtime)}; xs-rsync restores times within ±${MAX_MTIME_SECONDS} s)`, { entry })
  }
}
