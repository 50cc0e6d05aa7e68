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
