/**
 * A NOC stick for the benchmarks: builds (BASE-tree.tar.EXT with its .md5,
 * .contents and .name), manifest.sha256 and manifest.sha1 signed by a
 * throwaway key (prepare-stick, as the NOC does; the key is made here and
 * never written outside `work`), on an ext4 image attached to a loop device
 * and mounted read-only. Root only.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { link, copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { generateSigningKey } from '@xs-rsync/agent'
import { writeSampleStick } from '../../packages/xs-rsync/src/demo/sample-stick.js'
import { makeStickImage, type StickImage } from './stick-image.js'

export interface StickBuild {
  /** The tarball to carry (copied, or hardlinked when on the same file system). */
  source: string
  /** BASE of BASE-tree.tar.EXT. */
  base: string
  /** The build's name (its .name file). */
  name: string
  ext: 'tar.bz2' | 'tar.xz' | 'tar.lzma'
}

export interface SignedStick {
  image: StickImage
  /** MOUNTPOINT/xs-xobuilds */
  onStick: string
  /** A keyring folder trusting the stick's signing key. */
  keys: string
  /** Bytes of the stick's files of each build (tarball, .md5, .contents, .name), by build name. */
  buildBytes: Map<string, number>
  dispose: () => void
}

const md5Of = async (file: string): Promise<string> => {
  const h = createHash('md5')
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer)
  return h.digest('hex')
}

/** Makes a new `work` folder (first unmounting a stick an interrupted run left there) holding the keys, the image and its mountpoint. */
export const makeSignedStick = async (work: string, builds: StickBuild[]): Promise<SignedStick> => {
  try { execFileSync('umount', [join(work, 'stick')], { stdio: 'ignore' }) } catch { /* not mounted */ }
  await rm(work, { recursive: true, force: true })
  const keys = join(work, 'keys')
  const src = join(work, 'build')
  await mkdir(keys, { recursive: true })
  await mkdir(src, { recursive: true })
  const files = []
  const buildBytes = new Map<string, number>()
  let tarballBytes = 0
  for (const b of builds) {
    const tarball = join(src, `${b.base}-tree.${b.ext}`)
    await link(b.source, tarball).catch(async () => copyFile(b.source, tarball))
    await writeFile(`${tarball}.md5`, `${await md5Of(tarball)}  ${basename(tarball)}\n`)
    await writeFile(join(src, `${b.base}.contents`), `{"build":"${b.name}"}\n`)
    await writeFile(join(src, `${b.base}.name`), `${b.name}\n`)
    let bytes = 0
    for (const f of [tarball, `${tarball}.md5`, join(src, `${b.base}.contents`), join(src, `${b.base}.name`)]) bytes += (await stat(f)).size
    buildBytes.set(b.name, bytes)
    tarballBytes += (await stat(tarball)).size
    files.push({ name: b.name, tarball, md5File: `${tarball}.md5`, contentsFile: join(src, `${b.base}.contents`), nameFile: join(src, `${b.base}.name`) })
  }
  const key = await generateSigningKey('Bench NOC (throwaway)', 'noc@bench.invalid')
  await writeFile(join(keys, 'noc.asc'), key.publicKey)
  const stickDir = join(work, 'stick-src')
  await mkdir(stickDir) // prepare-stick never creates its --out
  await writeSampleStick(stickDir, files, key.secretKey)
  await rm(src, { recursive: true })
  const MiB = 1024 * 1024
  const image = makeStickImage(join(work, 'stick.img'), stickDir, join(work, 'stick'), Math.ceil(tarballBytes / MiB) * 2 + 64)
  await rm(stickDir, { recursive: true })
  return {
    image, onStick: join(image.mountpoint, 'xs-xobuilds'), keys, buildBytes,
    dispose: () => {
      image.detach()
      execFileSync('rm', ['-f', join(work, 'stick.img')])
    },
  }
}
