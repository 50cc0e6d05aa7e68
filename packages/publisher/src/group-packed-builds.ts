/** The files that make one build in xobuilds-packed. */
export type PackedPart = 'tarball' | 'md5' | 'contents' | 'name'

export interface PackedGroup {
  /** The common prefix "X" of the build's files. */
  base: string
  tarball?: string
  md5?: string
  contents?: string
  name?: string
  /** Parts that are not there. */
  missing: PackedPart[]
  /** Files that compete for the same part (e.g. X-tree.tar.bz2 and X-tree.tar.xz). */
  conflicts: string[]
}

export interface PackedListing {
  /** Sorted by base. */
  groups: PackedGroup[]
  /** File names that belong to no build. */
  ignored: string[]
}

// X-tree.tar.bz2 (xs-rsync) or X.tree.tar.lzma (olpc-os-builder), optionally + .md5
const TARBALL_RE = /^(.+?)[-.]tree\.tar\.(bz2|xz|lzma)(\.md5)?$/
// X.contents (xs-rsync) or X.toc (olpc-os-builder); X.name
const SIDE_RE = /^(.+)\.(contents|toc|name)$/

/**
 * Group a directory listing (file names only) into builds, saying what each
 * one lacks. Pure. Hidden files (leading ".") are ignored. A .md5 only counts
 * for the tarball it is named after.
 */
export const groupPackedBuilds = (files: readonly string[]): PackedListing => {
  const byBase = new Map<string, { tarballs: string[], md5s: string[], contents: string[], names: string[] }>()
  const ignored: string[] = []
  const slot = (base: string) => {
    let g = byBase.get(base)
    if (!g) byBase.set(base, g = { tarballs: [], md5s: [], contents: [], names: [] })
    return g
  }
  for (const f of [...files].sort()) {
    if (f.startsWith('.')) { ignored.push(f); continue }
    const t = TARBALL_RE.exec(f)
    if (t) {
      const g = slot(t[1] ?? '')
      ;(t[3] === undefined ? g.tarballs : g.md5s).push(f)
      continue
    }
    const s = SIDE_RE.exec(f)
    if (s) {
      const g = slot(s[1] ?? '')
      ;(s[2] === 'name' ? g.names : g.contents).push(f)
      continue
    }
    ignored.push(f)
  }
  const groups: PackedGroup[] = []
  for (const [base, g] of [...byBase].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const out: PackedGroup = { base, missing: [], conflicts: [] }
    const pick = (part: PackedPart, list: string[]): string | undefined => {
      if (list.length === 0) out.missing.push(part)
      else if (list.length > 1) out.conflicts.push(...list)
      else return list[0]
      return undefined
    }
    const tarball = pick('tarball', g.tarballs)
    if (tarball !== undefined) out.tarball = tarball
    const md5 = tarball === undefined ? undefined : g.md5s.find((m) => m === `${tarball}.md5`)
    if (md5 !== undefined) out.md5 = md5
    else if (tarball !== undefined || g.tarballs.length === 0) out.missing.push('md5')
    ignored.push(...g.md5s.filter((m) => m !== md5 && !g.tarballs.includes(m.slice(0, -4))))
    const contents = pick('contents', g.contents)
    if (contents !== undefined) out.contents = contents
    const name = pick('name', g.names)
    if (name !== undefined) out.name = name
    out.missing.sort()
    groups.push(out)
  }
  return { groups, ignored: ignored.sort() }
}
