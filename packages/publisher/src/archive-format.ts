import { XsError } from '@xs-rsync/core'

export type ArchiveFormat = 'bz2' | 'xz' | 'lzma'

/** Bytes `detectArchiveFormat` needs to see. */
export const FORMAT_HEAD_BYTES = 13

const NAME_HINTS: [RegExp, ArchiveFormat][] = [[/\.bz2$/i, 'bz2'], [/\.xz$/i, 'xz'], [/\.lzma$/i, 'lzma']]

const isBzip2 = (h: Uint8Array): boolean =>
  h[0] === 0x42 && h[1] === 0x5a && h[2] === 0x68 && (h[3] ?? 0) >= 0x31 && (h[3] ?? 0) <= 0x39

const isXz = (h: Uint8Array): boolean =>
  [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00].every((b, i) => h[i] === b)

/**
 * The legacy .lzma ("LZMA_Alone") header has no magic: check it the way
 * liblzma does. Properties byte lc/lp/pb in range, dictionary size 2^n or
 * 2^n + 2^(n-1) (or unset), uncompressed size unknown or below 256 GiB.
 */
const isLzma = (h: Uint8Array): boolean => {
  if (h.length < FORMAT_HEAD_BYTES || (h[0] ?? 255) > 224) return false
  const view = new DataView(h.buffer, h.byteOffset, h.byteLength)
  const dict = view.getUint32(1, true)
  const size = view.getBigUint64(5, true)
  const dictOk = dict === 0xffffffff || [...Array(31).keys()].some((n) => dict === 2 ** n || dict === 2 ** n + 2 ** (n - 1))
  return dictOk && (size === 0xffffffffffffffffn || size < 2n ** 38n)
}

/**
 * The compression of a tarball from its first bytes; the name is only a hint
 * (a mismatch is a warning). Unknown bytes under a known name are damage
 * (E_ARCHIVE_CORRUPT); anything else is E_ARCHIVE_FORMAT.
 */
export const detectArchiveFormat = (head: Uint8Array, tarball: string): { format: ArchiveFormat, warning?: string } => {
  const hinted = NAME_HINTS.find(([re]) => re.test(tarball))?.[1]
  const format: ArchiveFormat | undefined =
    isBzip2(head) ? 'bz2' : isXz(head) ? 'xz' : isLzma(head) ? 'lzma' : undefined
  if (format === undefined) {
    if (head[0] === 0x1f && head[1] === 0x8b) {
      throw new XsError('E_ARCHIVE_FORMAT', `${tarball} is gzip-compressed; builds must be .tar.bz2, .tar.xz or .tar.lzma`, { path: tarball })
    }
    if (hinted !== undefined) {
      throw new XsError('E_ARCHIVE_CORRUPT', `${tarball} does not start like ${hinted} data (damaged or not a ${hinted} file)`, { path: tarball, expected: hinted })
    }
    throw new XsError('E_ARCHIVE_FORMAT', `${tarball} is not a bzip2, xz or lzma archive`, { path: tarball })
  }
  if (hinted !== undefined && hinted !== format) {
    return { format, warning: `${tarball} is named like ${hinted} but holds ${format} data; unpacking it as ${format}` }
  }
  return { format }
}
