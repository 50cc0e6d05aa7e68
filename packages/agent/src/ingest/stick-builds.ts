import { join } from 'node:path'
import { XsError } from '@xs-rsync/core'
import { groupPackedBuilds, parseMd5File, parseNameFile } from '@xs-rsync/publisher'
import { copyVerified } from '../copy-verified.js'
import type { HashAlgo } from '../manifest.js'
import type { StickFile } from '../manifest-files.js'

/** Small build files are read into memory (once) before anything is copied. */
const MAX_SIDE_FILE = 64 * 1024

/** One build on the stick, its files checked against the manifest. */
export interface StickBuild {
  name: string
  tarball: StickFile
  md5: StickFile
  contents: StickFile
  nameFile: StickFile
  /** Bytes of the small files, read and verified. */
  md5Bytes: Buffer
  nameBytes: Buffer
  expectedMd5: string
}

/** Read a small build file once, verify it, keep its bytes. */
const readSide = async (file: StickFile, algo: HashAlgo, signal?: AbortSignal): Promise<Buffer> => {
  if (file.size > MAX_SIDE_FILE) {
    throw new XsError('E_BUILD_INCOMPLETE', `${file.path} is ${file.size} bytes, too big for its kind (at most ${MAX_SIDE_FILE})`,
      { path: file.path, expected: MAX_SIDE_FILE, actual: file.size })
  }
  const r = await copyVerified({ file, algo, keep: true, ...(signal && { signal }) })
  return r.data ?? Buffer.alloc(0)
}

/** Group the listed files into complete builds, reading and checking each .name and .md5. */
export const stickBuilds = async (files: StickFile[], algo: HashAlgo, dir: string, signal?: AbortSignal): Promise<{ builds: StickBuild[], extras: StickFile[] }> => {
  const byName = new Map(files.map((f) => [f.name, f]))
  const { groups, ignored } = groupPackedBuilds(files.map((f) => f.name))
  const builds: StickBuild[] = []
  for (const g of groups) {
    if (g.conflicts.length > 0) {
      throw new XsError('E_BUILD_INCOMPLETE', `${join(dir, g.base)}: more than one file for the same part: ${g.conflicts.join(', ')}`,
        { path: join(dir, g.base) })
    }
    const get = (n: string | undefined): StickFile | undefined => n === undefined ? undefined : byName.get(n)
    const [tarball, md5, contents, nameFile] = [get(g.tarball), get(g.md5), get(g.contents), get(g.name)]
    if (tarball === undefined || md5 === undefined || contents === undefined || nameFile === undefined) {
      throw new XsError('E_BUILD_INCOMPLETE', `build ${join(dir, g.base)} on the stick is incomplete: missing ${g.missing.join(', ')} ` +
        '(each build needs its tarball, .md5, .contents and .name, all listed in the manifest)', { path: join(dir, g.base) })
    }
    const nameBytes = await readSide(nameFile, algo, signal)
    const name = parseNameFile(nameBytes.toString('utf8'), nameFile.path)
    const md5Bytes = await readSide(md5, algo, signal)
    const expectedMd5 = parseMd5File(md5Bytes.toString('utf8'), md5.path)
    if (builds.some((b) => b.name === name)) {
      throw new XsError('E_BUILD_NAME', `${nameFile.path}: build name ${name} is used by more than one build on the stick`,
        { path: nameFile.path, actual: name })
    }
    builds.push({ name, tarball, md5, contents, nameFile, md5Bytes, nameBytes, expectedMd5 })
  }
  if (builds.length === 0) {
    throw new XsError('E_MANIFEST', `the manifest in ${dir} lists no build (X-tree.tar.bz2|xz|lzma with .md5, .contents, .name)`, { path: dir })
  }
  return { builds, extras: ignored.map((n) => byName.get(n)).filter((f): f is StickFile => f !== undefined) }
}
