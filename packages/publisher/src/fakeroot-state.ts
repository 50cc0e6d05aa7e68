import { XsError } from '@xs-rsync/core'

const LINE_RE = /^dev=([0-9a-f]+),ino=(\d+),mode=[0-7]+,uid=\d+,gid=\d+,nlink=\d+,rdev=\d+$/

/**
 * Check a fakeroot save file line by line (fakeroot itself silently stops at
 * the first bad line and serves the rest as the real owner) and return the
 * "dev:ino" keys it describes (dev in hex, as written). Pure; E_OWNERSHIP
 * naming `where` and the line.
 */
export const parseFakerootState = (text: string, where: string): Set<string> => {
  const keys = new Set<string>()
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  lines.forEach((line, i) => {
    const m = LINE_RE.exec(line)
    if (m === null) {
      throw new XsError('E_OWNERSHIP', `${where}:${i + 1}: not a fakeroot state line: ${JSON.stringify(line.slice(0, 120))}`,
        { path: where, entry: String(i + 1) })
    }
    keys.add(`${m[1]}:${m[2]}`)
  })
  return keys
}

export const fakerootKey = (dev: bigint, ino: bigint): string => `${dev.toString(16)}:${ino}`
