import { basename, dirname, join } from 'node:path'
import { XsError } from '@xs-rsync/core'
import { groupPackedBuilds } from '@xs-rsync/publisher'

/**
 * Where one build's files come from and the names they get in xs-xobuilds/
 * (the names the agent expects: X-tree.tar.EXT, X-tree.tar.EXT.md5,
 * X.contents, X.name).
 */
export interface StickBuildLayout {
  /** The common prefix X. */
  base: string
  /** Source paths. `md5From`/`nameFrom` are absent when they are to be made. */
  tarballFrom: string
  contentsFrom: string
  md5From?: string
  nameFrom?: string
  /** File names in xs-xobuilds/. */
  tarball: string
  md5: string
  contents: string
  name: string
}

/**
 * Plan one build from its tarball path and the file names beside it. Accepts
 * an xs-rsync build (X-tree.tar.bz2|xz|lzma with X.contents, optional
 * X-tree.tar.EXT.md5 and X.name) and an olpc-os-builder output
 * (X.tree.tar.lzma with X.toc). The contents list is required
 * (E_BUILD_INCOMPLETE); a missing .md5 or .name is made later. Pure.
 */
export const stickLayout = (tarballPath: string, siblings: readonly string[]): StickBuildLayout => {
  const file = basename(tarballPath)
  const dir = dirname(tarballPath)
  const g = groupPackedBuilds([file]).groups[0]
  if (g?.tarball !== file) {
    throw new XsError('E_ARCHIVE_FORMAT', `${tarballPath} is not a build tarball (X-tree.tar.bz2, X-tree.tar.xz, X-tree.tar.lzma or ` +
      'olpc-os-builder\'s X.tree.tar.lzma)', { path: tarballPath })
  }
  const base = g.base
  const ext = file.slice(file.lastIndexOf('.') + 1)
  const has = new Set(siblings)
  const contents = [`${base}.contents`, `${base}.toc`].find((n) => has.has(n))
  if (contents === undefined) {
    throw new XsError('E_BUILD_INCOMPLETE', `${tarballPath} has no ${base}.contents (or olpc-os-builder ${base}.toc) beside it`,
      { path: join(dir, `${base}.contents`) })
  }
  const tarball = `${base}-tree.tar.${ext}`
  return {
    base,
    tarballFrom: tarballPath,
    contentsFrom: join(dir, contents),
    ...(has.has(`${file}.md5`) && { md5From: join(dir, `${file}.md5`) }),
    ...(has.has(`${base}.name`) && { nameFrom: join(dir, `${base}.name`) }),
    tarball,
    md5: `${tarball}.md5`,
    contents: `${base}.contents`,
    name: `${base}.name`,
  }
}

/**
 * The file names of all `layouts` must form exactly one complete build each,
 * as the agent groups them (no two builds with the same X). E_USAGE otherwise. Pure.
 */
export const checkStickLayouts = (layouts: readonly StickBuildLayout[]): void => {
  const bases = new Map<string, string>()
  for (const l of layouts) {
    const other = bases.get(l.base)
    if (other !== undefined) {
      throw new XsError('E_USAGE', `${l.tarballFrom} and ${other} would both be named ${l.base}-tree.* on the stick: rename one`,
        { path: l.tarballFrom })
    }
    bases.set(l.base, l.tarballFrom)
  }
  const { groups, ignored } = groupPackedBuilds(layouts.flatMap((l) => [l.tarball, l.md5, l.contents, l.name]))
  const bad = groups.filter((g) => g.missing.length > 0 || g.conflicts.length > 0)
  if (bad.length > 0 || ignored.length > 0 || groups.length !== layouts.length) {
    throw new XsError('E_USAGE', `these builds cannot share one stick: ${[...bad.map((g) => g.base), ...ignored].join(', ')}`)
  }
}
