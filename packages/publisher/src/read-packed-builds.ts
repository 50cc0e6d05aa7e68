import { createHash } from 'node:crypto'
import { lstat, readdir, readFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { toXsError, XsError } from '@xs-rsync/core'
import { checkBuildName } from './build-name.js'
import { groupPackedBuilds, type PackedGroup } from './group-packed-builds.js'
import { parseMd5File } from './parse-md5-file.js'

/** One complete build in a packed folder, with what refresh compares. */
export interface PackedBuild {
  name: string
  /** Full paths. */
  tarball: string
  md5File: string
  contentsFile: string
  nameFile: string
  /** From the .md5 file. */
  expectedMd5: string
  size: number
  mtimeMs: number
  ino: number
  md5FileHash: string
  contentsHash: string
}

export interface PackedFailure {
  /** The group's base name (X of X-tree.tar.bz2). */
  base: string
  /** The build name, when its .name file could be read. */
  name?: string
  error: XsError
}

export interface PackedScan {
  builds: PackedBuild[]
  failures: PackedFailure[]
  /** Every name claimed by a readable .name file, complete build or not. */
  claimedNames: Set<string>
  /** Groups without a .name file: not asked to be published (removing X.name unpublishes a build). */
  unnamed: string[]
  /**
   * Groups whose tarball is gone (deleted by hand): not asked to be
   * published either, their NAME is not claimed; the other files are listed.
   */
  leftovers: { base: string, files: string[] }[]
  ignored: string[]
}

const MAX_SIDE_FILE = 64 * 1024

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** Read a small side file (lstat first: a regular file, not too big). */
const readSide = async (path: string): Promise<Buffer> => {
  const st = await lstat(path)
  if (!st.isFile()) throw new XsError('E_BUILD_INCOMPLETE', `${path} is not a regular file`, { path })
  if (st.size > MAX_SIDE_FILE) throw new XsError('E_BUILD_INCOMPLETE', `${path} is too big (${st.size} bytes) for its kind`, { path })
  return readFile(path)
}

/**
 * The build NAME in X.name of xobuilds-packed: its first line, trimmed;
 * checked. (The folder is the admin's; a stick's .name must hold exactly one
 * line, parseNameFile, before it is copied here.)
 */
export const readBuildName = async (nameFile: string): Promise<string> =>
  checkBuildName((await readSide(nameFile)).toString('utf8').split('\n')[0]?.trim() ?? '', nameFile)

/**
 * Read one group's files; E_BUILD_INCOMPLETE / E_BUILD_NAME naming the file.
 * `name`, when given, stands in for the .name file.
 */
export const readPackedGroup = async (dir: string, g: PackedGroup, name?: string): Promise<PackedBuild> => {
  const missing = name === undefined ? g.missing : g.missing.filter((p) => p !== 'name')
  if (g.conflicts.length > 0) {
    throw new XsError('E_BUILD_INCOMPLETE', `${join(dir, g.base)}: more than one file for the same part: ${g.conflicts.join(', ')}`,
      { path: join(dir, g.conflicts[0] ?? g.base) })
  }
  if (g.tarball === undefined || g.md5 === undefined || g.contents === undefined || missing.length > 0) {
    throw new XsError('E_BUILD_INCOMPLETE', `build ${join(dir, g.base)} is incomplete: missing ${missing.join(', ')}`,
      { path: join(dir, g.base) })
  }
  const nameFile = join(dir, g.name ?? `${g.base}.name`)
  const buildName = name === undefined ? await readBuildName(nameFile) : checkBuildName(name, 'build name argument')
  const tarball = join(dir, g.tarball)
  const st = await lstat(tarball)
  if (!st.isFile()) throw new XsError('E_BUILD_INCOMPLETE', `${tarball} is not a regular file`, { path: tarball })
  const md5File = join(dir, g.md5)
  const md5Text = await readSide(md5File)
  const contentsFile = join(dir, g.contents)
  const contents = await readFile(contentsFile)
  return {
    name: buildName, tarball, md5File, contentsFile, nameFile,
    expectedMd5: parseMd5File(md5Text.toString('utf8'), md5File),
    size: st.size, mtimeMs: st.mtimeMs, ino: st.ino,
    md5FileHash: sha256(md5Text),
    contentsHash: sha256(contents),
  }
}

/**
 * Every build in a packed folder. Incomplete or unreadable builds become
 * failures (the others are still returned); two builds with the same NAME
 * both fail; files without a .name are only listed as unnamed.
 */
export const scanPackedBuilds = async (dir: string): Promise<PackedScan> => {
  const { groups, ignored } = groupPackedBuilds(await readdir(dir))
  const builds: PackedBuild[] = []
  const failures: PackedFailure[] = []
  const claimedNames = new Set<string>()
  const unnamed: string[] = []
  const leftovers: { base: string, files: string[] }[] = []
  for (const g of groups) {
    if (g.name === undefined && !g.conflicts.some((f) => f.endsWith('.name'))) {
      unnamed.push(g.base)
      continue
    }
    if (g.tarball === undefined && g.conflicts.length === 0) {
      leftovers.push({ base: g.base, files: [g.md5, g.contents, g.name].filter((f): f is string => f !== undefined) })
      continue
    }
    let name: string | undefined
    try {
      if (g.name !== undefined) {
        name = await readBuildName(join(dir, g.name))
        claimedNames.add(name)
      }
      builds.push(await readPackedGroup(dir, g))
    } catch (er) {
      failures.push({ base: g.base, ...(name !== undefined && { name }), error: toXsError(er) })
    }
  }
  const count = new Map<string, number>()
  for (const b of builds) count.set(b.name, (count.get(b.name) ?? 0) + 1)
  const dups = builds.filter((b) => (count.get(b.name) ?? 0) > 1)
  for (const b of dups) {
    failures.push({ base: basename(b.nameFile).replace(/\.name$/, ''), name: b.name,
      error: new XsError('E_BUILD_NAME', `${b.nameFile}: build name ${b.name} is used by more than one build in ${dir}`, { path: b.nameFile, actual: b.name }) })
  }
  return { builds: builds.filter((b) => !dups.includes(b)), failures, claimedNames, unnamed, leftovers, ignored }
}

/**
 * The build a tarball belongs to, from the files beside it (for `publish
 * BUILDFILE [NAME]`). NAME, when given, replaces the .name file, which is then
 * not needed.
 */
export const locatePackedBuild = async (tarball: string, name?: string): Promise<PackedBuild> => {
  const dir = dirname(tarball)
  const { groups } = groupPackedBuilds(await readdir(dir))
  const g = groups.find((x) => x.tarball === basename(tarball) || x.conflicts.includes(basename(tarball)))
  if (g === undefined) {
    throw new XsError('E_BUILD_INCOMPLETE', `${tarball} is not a build tarball (X-tree.tar.bz2, .tar.xz or .tar.lzma)`, { path: tarball })
  }
  return readPackedGroup(dir, g, name)
}
