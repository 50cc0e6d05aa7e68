/** Above this many builds, the DONE line gives the listing command instead of each URL. */
export const MAX_LISTED_URLS = 8

/**
 * The part of a DONE line that says what laptops can pull now, with each
 * build's rsync URL, or, past MAX_LISTED_URLS builds, the command that lists
 * them. Pure.
 */
export const describeAvailable = (names: readonly string[], host: string): string => {
  if (names.length === 0) return 'no builds are available to laptops'
  if (names.length > MAX_LISTED_URLS) {
    return `${names.length} builds are available to laptops: ${names.join(', ')} (list them with "rsync rsync://${host}/")`
  }
  return `builds available to laptops: ${names.map((n) => `${n} (rsync://${host}/build-${n})`).join(', ')}`
}
