import { XsError } from '@xs-rsync/core'

/**
 * A build NAME goes into rsync module names (`[build-NAME]`), config lines and
 * store paths, so only a plain, short set of characters is allowed.
 */
export const BUILD_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export const isBuildName = (name: string): boolean =>
  BUILD_NAME_RE.test(name) && !name.includes('..')

/** Throws E_BUILD_NAME naming `where` (the .name file) unless `name` is allowed. */
export const checkBuildName = (name: string, where = 'build name'): string => {
  if (!isBuildName(name)) {
    throw new XsError('E_BUILD_NAME',
      `${where}: build name ${JSON.stringify(name)} is not allowed (1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit, no "..")`,
      { path: where, actual: name })
  }
  return name
}

/**
 * The build NAME in the text of an X.name file: exactly one line (a final
 * newline, LF or CRLF, is allowed; spaces around the name are not part of
 * it), and that line a valid NAME. Anything else is E_BUILD_NAME naming
 * `where`: a second line is not "ignored", since which NAME the NOC meant
 * cannot be known. Pure.
 */
export const parseNameFile = (text: string, where: string): string => {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text
  const lines = body.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
  const name = checkBuildName(lines[0]?.trim() ?? '', where)
  if (lines.length > 1) {
    throw new XsError('E_BUILD_NAME', `${where} holds ${lines.length} lines; a .name file holds exactly one line, the build NAME`,
      { path: where, actual: lines.length })
  }
  return name
}
