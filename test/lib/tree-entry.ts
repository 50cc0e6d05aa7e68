/** One name of a served tree, as the archive says it should be or as a client got it. */
export interface TreeEntry {
  type: 'file' | 'directory' | 'symlink' | 'character-device' | 'block-device' | 'fifo'
  /** Permission bits incl. setuid/setgid/sticky. */
  perm: number
  uid: number
  gid: number
  major: number
  minor: number
  /** Symlink target ('' otherwise). */
  target: string
  /** sha1 of a regular file's content ('' otherwise). */
  sha1: string
  /** Whole seconds; undefined when the archive does not say (implicit root). */
  mtime: number | undefined
  /** Names with the same `link` are one inode (hardlinks). */
  link: number
}

/** Byte-string path ('' = the root) -> entry. */
export type Tree = Map<string, TreeEntry>

/**
 * Every difference between what the archive says and what a client got:
 * missing/extra names, each field, and hardlink grouping. [] = identical.
 */
export const compareTrees = (expected: Tree, actual: Tree): string[] => {
  const diffs: string[] = []
  const show = (p: string): string => JSON.stringify(p)
  const groups = (t: Tree): Map<string, string> => {
    const byLink = new Map<number, string[]>()
    for (const [p, e] of t) if (e.type !== 'directory') byLink.set(e.link, [...(byLink.get(e.link) ?? []), p])
    const out = new Map<string, string>()
    for (const names of byLink.values()) {
      const group = [...names].sort().join(' | ')
      for (const n of names) out.set(n, group)
    }
    return out
  }
  const ge = groups(expected)
  const ga = groups(actual)
  for (const [p, want] of expected) {
    const got = actual.get(p)
    if (got === undefined) { diffs.push(`${show(p)}: missing`); continue }
    for (const k of ['type', 'perm', 'uid', 'gid', 'major', 'minor', 'target', 'sha1', 'mtime'] as const) {
      if (k === 'mtime' && want.mtime === undefined) continue
      if (got[k] !== want[k]) diffs.push(`${show(p)}: ${k} ${k === 'perm' ? got[k].toString(8) : String(got[k])} != expected ${k === 'perm' ? want[k].toString(8) : String(want[k])}`)
    }
    if (ge.get(p) !== ga.get(p)) diffs.push(`${show(p)}: hardlink group ${String(ga.get(p))} != expected ${String(ge.get(p))}`)
  }
  for (const p of actual.keys()) if (!expected.has(p)) diffs.push(`${show(p)}: not in the archive`)
  return diffs
}
