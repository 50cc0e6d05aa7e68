import { XsError } from '@xs-rsync/core'

const LINE_RE = /^([0-9a-fA-F]{32})(?:[ \t]+\*?(.*))?$/

/**
 * The hash in md5sum output ("HASH  file" or "HASH *file" or just "HASH").
 * The file name written inside may differ from ours (the NOC renames files),
 * so only the hash is used. Exactly one non-empty line is allowed.
 * Returns lower-case hex; E_BUILD_INCOMPLETE naming `where` when malformed.
 */
export const parseMd5File = (text: string, where: string): string => {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, '').trim()).filter((l) => l !== '')
  const m = lines.length === 1 ? LINE_RE.exec(lines[0] ?? '') : null
  if (!m) {
    throw new XsError('E_BUILD_INCOMPLETE', `${where}: not md5sum output for one file (expected "<32 hex digits>  <file>")`,
      { path: where })
  }
  return (m[1] ?? '').toLowerCase()
}
