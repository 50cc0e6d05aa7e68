/**
 * A stick for the ingest benchmarks: the real-files corpus as build `real`
 * (os-real-tree.tar.bz2 with its .md5, .contents and .name), manifest.sha256
 * and manifest.sha1 signed by a throwaway key (prepare-stick, as the NOC
 * does), on an ext4 image attached to a loop device and mounted read-only,
 * with a cgroup that reads from it at `bps` bytes per second. Root only.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateSigningKey } from '@xs-rsync/agent'
import { writeSampleStick } from '../../packages/xs-rsync/src/demo/sample-stick.js'
import { readRateLimit, type CgroupLimit } from './cgroup-limits.js'
import { realFilesTarball, type Corpus } from './real-files-corpus.js'
import { makeStickImage, type StickImage } from './stick-image.js'

export interface RealFilesStick {
  corpus: Corpus
  image: StickImage
  /** MOUNTPOINT/xs-xobuilds */
  onStick: string
  /** The tarball on the stick. */
  tarball: string
  /** A keyring folder trusting the stick's signing key. */
  keys: string
  /** Reads from the stick at USB-2 speed for the commands put in it. */
  usb2: CgroupLimit
  dispose: () => Promise<void>
}

const md5Of = async (file: string): Promise<string> => {
  const h = createHash('md5')
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer)
  return h.digest('hex')
}

/** 30 MiB/s: USB-2 as a stick delivers it. */
export const USB2_BPS = 30 * 1024 * 1024

/** Makes a new `work` folder, first unmounting a stick an interrupted run left there. */
export const makeRealFilesStick = async (corpusDir: string, work: string, bps = USB2_BPS, cgroup = 'xs-bench-stick'): Promise<RealFilesStick> => {
  try { execFileSync('umount', [join(work, 'stick')], { stdio: 'ignore' }) } catch { /* not mounted */ }
  await rm(work, { recursive: true, force: true })
  const corpus = await realFilesTarball(corpusDir, 'bz2')
  const MiB = 1024 * 1024
  const keys = join(work, 'keys')
  const build = join(work, 'build')
  await mkdir(keys, { recursive: true })
  await mkdir(build, { recursive: true })
  const tarball = join(build, 'os-real-tree.tar.bz2')
  await copyFile(corpus.tarball, tarball)
  await writeFile(`${tarball}.md5`, `${await md5Of(tarball)}  os-real-tree.tar.bz2\n`)
  await writeFile(join(build, 'os-real.contents'), '{"build":"real"}\n')
  await writeFile(join(build, 'os-real.name'), 'real\n')
  const key = await generateSigningKey('Bench NOC (throwaway)', 'noc@bench.invalid')
  await writeFile(join(keys, 'noc.asc'), key.publicKey)
  const stickDir = join(work, 'stick-src')
  await mkdir(stickDir) // prepare-stick never creates its --out
  await writeSampleStick(stickDir, [{ name: 'real', tarball, md5File: `${tarball}.md5`, contentsFile: join(build, 'os-real.contents'), nameFile: join(build, 'os-real.name') }], key.secretKey)
  await rm(build, { recursive: true })
  const image = makeStickImage(join(work, 'stick.img'), stickDir, join(work, 'stick'), Math.ceil(corpus.bytes / MiB) * 2 + 64)
  await rm(stickDir, { recursive: true })
  const usb2 = readRateLimit(image.device, bps, cgroup)
  const onStick = join(image.mountpoint, 'xs-xobuilds')
  return {
    corpus, image, onStick, tarball: join(onStick, 'os-real-tree.tar.bz2'), keys, usb2,
    dispose: async () => {
      usb2.remove()
      image.detach()
    },
  }
}
