import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { XsError } from '@xs-rsync/core'
import { groupPackedBuilds, readBuildName, type BuildRecord } from '@xs-rsync/publisher'
import type { StickBuild } from './stick-builds.js'

/** Two different NAMEs that rsync takes for one module name (`[build-X]`, `[build-x]`). Pure. */
export const sameModuleName = (a: string, b: string): boolean => a !== b && a.toLowerCase() === b.toLowerCase()

/**
 * E_BUILD_NAME when two builds on the stick, or a build on the stick and a
 * published one, have NAMEs that differ only in letter case: rsync daemon
 * module names are not case-sensitive, so they would break each other. Pure.
 */
export const checkNameCase = (builds: ReadonlyArray<Pick<StickBuild, 'name' | 'nameFile'>>, published: readonly string[]): void => {
  for (const [i, b] of builds.entries()) {
    const twin = builds.slice(i + 1).find((o) => sameModuleName(o.name, b.name))
    if (twin !== undefined) {
      throw new XsError('E_BUILD_NAME', `build names ${b.name} and ${twin.name} on the stick differ only in letter case ` +
        '(rsync module names are not case-sensitive)', { path: twin.nameFile.path, actual: twin.name })
    }
    const clash = published.find((p) => sameModuleName(p, b.name))
    if (clash !== undefined) {
      throw new XsError('E_BUILD_NAME', `${b.nameFile.path}: build name ${b.name} differs only in letter case from the published build ${clash} ` +
        '(rsync module names are not case-sensitive, so one would hide the other)', { path: b.nameFile.path, actual: b.name, expected: clash })
    }
  }
}

/** The base name the packed folder groups a build's files by (os44 for os44-tree.tar.bz2). */
export const baseOf = (b: Pick<StickBuild, 'tarball'>): string => groupPackedBuilds([b.tarball.name]).groups[0]?.base ?? b.tarball.name

/**
 * E_BUILD_NAME when a build of the stick would put its files over the files
 * of another build NAME in xobuilds-packed (same file names): whose files
 * they are is said by their .name file or by a build record naming the
 * tarball. One stick must never replace another build.
 */
export const checkPackedOwners = async (packed: string, plans: readonly StickBuild[], records: readonly BuildRecord[]): Promise<void> => {
  const { groups } = groupPackedBuilds(await readdir(packed).catch(() => [] as string[]))
  for (const b of plans) {
    const base = baseOf(b)
    for (const g of groups.filter((x) => x.base === base)) {
      const files = [g.tarball, g.md5, g.contents, g.name, ...g.conflicts].filter((f): f is string => f !== undefined)
      const owners = new Set<string>()
      if (g.name !== undefined) {
        const n = await readBuildName(join(packed, g.name)).catch(() => undefined)
        if (n !== undefined) owners.add(n)
      }
      for (const r of records) if (files.includes(r.tarball)) owners.add(r.name)
      const other = [...owners].find((o) => o !== b.name)
      if (other !== undefined) {
        throw new XsError('E_BUILD_NAME', `build ${b.name} on the stick would replace the files of build ${other} in ${packed} ` +
          `(${files.join(', ')}): a stick never replaces another build; ask the NOC to give the build's files their own names`,
        { path: b.tarball.path, actual: b.name, expected: other })
      }
    }
  }
}
