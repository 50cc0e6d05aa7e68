/** Above this many builds, a DONE line gives the listing command instead of each URL. */
export const MAX_LISTED_URLS = 8

/**
 * "44, 45 (rsync://HOST/build-44, rsync://HOST/build-45)": the builds laptops
 * can pull, each with its rsync URL, or past MAX_LISTED_URLS builds the
 * command that lists them. Pure.
 */
export const availableWithUrls = (names: readonly string[], host: string): string => {
  if (names.length === 0) return 'none'
  const how = names.length > MAX_LISTED_URLS
    ? `list them with "rsync rsync://${host}/"`
    : names.map((n) => `rsync://${host}/build-${n}`).join(', ')
  return `${names.join(', ')} (${how})`
}

/** The part of a DONE line that says what laptops can pull now. Pure. */
export const describeAvailable = (names: readonly string[], host: string): string =>
  names.length === 0 ? 'no builds are available to laptops' : `builds available to laptops: ${availableWithUrls(names, host)}`
