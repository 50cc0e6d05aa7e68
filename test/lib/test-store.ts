import { createHash } from 'node:crypto'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_CONFIG, type Backend, type XsConfig } from '@xs-rsync/core'
import { compressFile, EXT, type Compressor } from '../../packages/publisher/test/lib/make-archive.js'

/** A config for a store in `dir` (no template file: the built-in one). */
export const testStore = (dir: string, backend: Backend = 'fake-super'): XsConfig => {
  const config: XsConfig = {
    ...DEFAULT_CONFIG,
    root: join(dir, 'store'),
    rsyncdConf: join(dir, 'xs-rsyncd.conf'),
    rsyncdTemplate: join(dir, 'no-template.in'),
    backend,
    keyring: join(dir, 'keys'),
    mountBase: join(dir, 'mnt'),
  }
  mkdirSync(join(config.root, 'xobuilds-packed'), { recursive: true })
  return config
}

export interface PackedFiles {
  tarball: string
  md5File: string
  contentsFile: string
  nameFile: string
}

/**
 * Put a build into ROOT/xobuilds-packed as the NOC would: BASE-tree.tar.EXT
 * compressed from `tarFile` by the real `how` tool, its .md5 (md5sum format;
 * `md5` overrides the hash), BASE.contents and BASE.name (`nameText` overrides).
 */
export const addPackedBuild = (config: XsConfig, base: string, name: string, tarFile: string, how: Compressor,
  opts: { md5?: string, nameText?: string, contents?: string } = {}): PackedFiles => {
  const packed = join(config.root, 'xobuilds-packed')
  const tarball = join(packed, `${base}-tree.${EXT[how]}`)
  compressFile(tarFile, how, tarball)
  const md5 = opts.md5 ?? createHash('md5').update(readFileSync(tarball)).digest('hex')
  const md5File = `${tarball}.md5`
  writeFileSync(md5File, `${md5}  ${base}-tree.${EXT[how]}\n`)
  const contentsFile = join(packed, `${base}.contents`)
  writeFileSync(contentsFile, opts.contents ?? `contents of ${name} from ${how}\n`)
  const nameFile = join(packed, `${base}.name`)
  writeFileSync(nameFile, opts.nameText ?? `${name}\n`)
  return { tarball, md5File, contentsFile, nameFile }
}

/** Copy an already-compressed tarball in as a build (same file layout as addPackedBuild). */
export const copyPackedBuild = (config: XsConfig, base: string, name: string, compressed: string, ext: string): PackedFiles => {
  const packed = join(config.root, 'xobuilds-packed')
  const tarball = join(packed, `${base}-tree.${ext}`)
  copyFileSync(compressed, tarball)
  const md5File = `${tarball}.md5`
  writeFileSync(md5File, `${createHash('md5').update(readFileSync(tarball)).digest('hex')}  ${base}-tree.${ext}\n`)
  const contentsFile = join(packed, `${base}.contents`)
  writeFileSync(contentsFile, `contents of ${name}\n`)
  const nameFile = join(packed, `${base}.name`)
  writeFileSync(nameFile, `${name}\n`)
  return { tarball, md5File, contentsFile, nameFile }
}
