/**
 * A synthetic build of very many entries (test/lib/many-entries-tar: folders
 * of 1,000 small files, long GNU names, symlinks, hardlinks, setuid files) as
 * `DIR/many-ENTRIES.tar.bz2` by `lbzip2 -9`, made once and kept.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { writeManyEntriesTar } from '../../test/lib/many-entries-tar.js'

export interface ManyEntriesBuild {
  tarball: string
  /** Names of the unpacked tree (entries, the tree root and the folders no entry lists). */
  names: number
}

export const manyEntriesTarball = (dir: string, entries: number): ManyEntriesBuild => {
  mkdirSync(dir, { recursive: true })
  const tarball = join(dir, `many-${entries}.tar.bz2`)
  const tar = join(dir, `many-${entries}.tar`)
  // the tar is rewritten each time (about a second per 100,000 entries) for its shape
  const shape = writeManyEntriesTar(tar, { entries })
  if (!existsSync(tarball)) execFileSync('sh', ['-c', `lbzip2 -9 -c "${tar}" > "${tarball}.part" && mv "${tarball}.part" "${tarball}"`])
  execFileSync('rm', ['-f', tar])
  return { tarball, names: shape.names }
}
