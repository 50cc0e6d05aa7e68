import type { ManifestEntry } from './manifest.js'

/**
 * sha1sum/sha256sum output ("HASH  NAME\n" per file, text mode), sorted by
 * name so the same folder always gives the same bytes to sign. Pure.
 */
export const renderManifest = (entries: ManifestEntry[]): string =>
  [...entries]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => `${e.hash}  ${e.name}\n`)
    .join('')
