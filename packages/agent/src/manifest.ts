import { XsError } from '@xs-rsync/core'

export type HashAlgo = 'sha1' | 'sha256'

/** One line of the manifest: a plain file name in xs-xobuilds/ and its hex hash. */
export interface ManifestEntry {
  name: string
  hash: string
}

const HEX_LENGTH: Record<HashAlgo, number> = { sha1: 40, sha256: 64 }

/** Longest file name accepted (bytes), as most filesystems. */
export const MAX_NAME_BYTES = 255

/**
 * Why `name` is not a plain file name of the stick folder, or undefined when
 * it is one: no "/", "\", no "." or "..", no control characters, at most 255
 * bytes. Pure.
 */
export const badEntryName = (name: string): string | undefined => {
  if (name === '') return 'empty file name'
  if (name === '.' || name === '..') return 'file name is "." or ".."'
  if (name.includes('/')) return 'file name contains "/"'
  if (name.includes('\\')) return 'file name contains "\\"'
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'file name contains a control character'
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `file name is longer than ${MAX_NAME_BYTES} bytes`
  return undefined
}

/**
 * Parse sha1sum/sha256sum output ("HASH  NAME", or "HASH *NAME" for binary
 * mode), as text or raw bytes (must be UTF-8). Strict: every line must be such a line (a final newline and CRLF line
 * ends are accepted), names must be plain file names, each listed once, and
 * there must be at least one. Hashes come back lower-case. Pure; `where` names
 * the manifest in errors (E_MANIFEST).
 */
export const parseManifest = (data: string | Uint8Array, algo: HashAlgo, where: string): ManifestEntry[] => {
  let text: string
  try {
    text = typeof data === 'string' ? data : new TextDecoder('utf-8', { fatal: true }).decode(data)
  } catch {
    throw new XsError('E_MANIFEST', `${where} is not UTF-8 text`, { path: where })
  }
  const hexLen = HEX_LENGTH[algo]
  const lineRe = new RegExp(`^([0-9a-fA-F]{${hexLen}}) [ *](.*)$`)
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  const entries: ManifestEntry[] = []
  const seen = new Set<string>()
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    const at = `${where} line ${i + 1}`
    const m = lineRe.exec(line)
    if (!m) {
      throw new XsError('E_MANIFEST', `${at}: not a ${algo}sum line ("HASH  NAME" with a ${hexLen}-digit hash)`,
        { path: where, entry: line.slice(0, 200) })
    }
    const name = m[2] as string
    const why = badEntryName(name)
    if (why !== undefined) throw new XsError('E_MANIFEST', `${at}: ${why}`, { path: where, entry: name.slice(0, 200) })
    if (seen.has(name)) throw new XsError('E_MANIFEST', `${at}: ${name} is listed twice`, { path: where, entry: name })
    seen.add(name)
    entries.push({ name, hash: (m[1] as string).toLowerCase() })
  })
  if (entries.length === 0) throw new XsError('E_MANIFEST', `${where} lists no files`, { path: where })
  return entries
}
