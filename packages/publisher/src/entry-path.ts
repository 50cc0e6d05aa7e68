import { XsError } from '@xs-rsync/core'

export interface PathLimits {
  maxPathBytes: number
  maxDepth: number
}

/**
 * Entry names are "byte strings": each char is one byte (latin1), so any name
 * a Linux tree can hold (non-UTF-8 included) survives unchanged. This shows
 * one to a person: UTF-8 where it decodes, control chars escaped.
 */
export const showPath = (p: string): string => JSON.stringify(Buffer.from(p, 'latin1').toString('utf8'))

/** File-system path of a byte-string path below `root` (a Buffer keeps every byte). */
export const fsPath = (root: string, rel: string): Buffer =>
  rel === '' ? Buffer.from(root) : Buffer.concat([Buffer.from(root + '/'), Buffer.from(rel, 'latin1')])

// NUL and control chars other than tab and newline have no business in an OS
// tree and can forge terminal or log output. Tab and newline are legal in
// Linux names and survive everything we write (the fattr dump escapes them,
// the fakeroot state is keyed by inode).
// eslint-disable-next-line no-control-regex
const BAD_CHAR = /[\x00-\x08\x0b-\x1f\x7f]/

const MAX_NAME_BYTES = 255

/**
 * A tar entry name as a relative path inside the tree ('' = the tree itself).
 * Strips one leading "./", collapses empty and "." components, and rejects
 * absolute names, "..", control chars and names over the depth and length
 * bounds with E_ARCHIVE_UNSAFE.
 *
 * Backslashes and unicode look-alikes (U+2215, fullwidth solidus...) are
 * ordinary filename bytes on Linux: real OS trees hold systemd units such as
 * "dev-disk-by\x2dlabel.swap". They are kept literally and, since only "/"
 * separates components, they can never climb out of the tree.
 */
export const normalizeEntryPath = (name: string, limits: PathLimits, what = 'entry'): string => {
  const unsafe = (why: string): XsError =>
    new XsError('E_ARCHIVE_UNSAFE', `${what} ${showPath(name)} ${why}`, { entry: name })
  if (name.startsWith('/')) throw unsafe('is an absolute path')
  if (BAD_CHAR.test(name)) throw unsafe('contains a NUL or control character')
  const parts = (name.startsWith('./') ? name.slice(2) : name).split('/').filter((c) => c !== '' && c !== '.')
  if (parts.includes('..')) throw unsafe('contains a ".." component')
  if (parts.length > limits.maxDepth) throw unsafe(`is deeper than ${limits.maxDepth} levels`)
  if (parts.some((c) => c.length > MAX_NAME_BYTES)) throw unsafe(`has a component longer than ${MAX_NAME_BYTES} bytes`)
  const rel = parts.join('/')
  if (rel.length > limits.maxPathBytes) throw unsafe(`is longer than ${limits.maxPathBytes} bytes`)
  return rel
}
