/** One line of /proc/self/mountinfo (proc(5)), fields unescaped. */
export interface MountEntry {
  /** "major:minor" of the mounted filesystem. */
  devId: string
  /** The directory inside the filesystem that is mounted ("/" for the whole one). */
  root: string
  mountPoint: string
  options: string[]
  fsType: string
  source: string
}

/** The kernel writes space, tab, newline and backslash as \ooo octal escapes. */
export const unescapeMountField = (s: string): string =>
  s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)))

/**
 * Parse /proc/self/mountinfo text. Pure. Malformed lines are skipped (the
 * kernel writes this file; a line we cannot read is not one we can use).
 */
export const parseMountInfo = (text: string): MountEntry[] => {
  const out: MountEntry[] = []
  for (const line of text.split('\n')) {
    const f = line.split(' ')
    const sep = f.indexOf('-', 6)
    const devId = f[2]
    const root = f[3]
    const mountPoint = f[4]
    const options = f[5]
    const fsType = f[sep + 1]
    const source = f[sep + 2]
    if (sep < 0 || devId === undefined || root === undefined || mountPoint === undefined ||
      options === undefined || fsType === undefined || source === undefined) continue
    out.push({
      devId,
      root: unescapeMountField(root),
      mountPoint: unescapeMountField(mountPoint),
      options: options.split(','),
      fsType: unescapeMountField(fsType),
      source: unescapeMountField(source),
    })
  }
  return out
}

/** The mount that holds `path` (absolute, symlinks resolved): the deepest mount point above it. Pure. */
export const mountContaining = (entries: readonly MountEntry[], path: string): MountEntry | undefined => {
  let best: MountEntry | undefined
  for (const e of entries) {
    const inside = path === e.mountPoint || path.startsWith(e.mountPoint === '/' ? '/' : `${e.mountPoint}/`)
    // a later line for the same point is mounted over the earlier one
    if (inside && (best === undefined || e.mountPoint.length >= best.mountPoint.length)) best = e
  }
  return best
}
