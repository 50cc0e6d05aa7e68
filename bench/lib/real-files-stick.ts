/**
 * A stick for the ingest benchmarks: the real-files corpus as build `real`
 * (os-real-tree.tar.bz2 with its .md5, .contents and .name) on a signed
 * stick image (signed-stick.ts), with a cgroup that reads from it at `bps`
 * bytes per second. Root only.
 */
import { join } from 'node:path'
import { readRateLimit, type CgroupLimit } from './cgroup-limits.js'
import { realFilesTarball, type Corpus } from './real-files-corpus.js'
import { makeSignedStick } from './signed-stick.js'
import type { StickImage } from './stick-image.js'

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

/** 30 MiB/s: USB-2 as a stick delivers it. */
export const USB2_BPS = 30 * 1024 * 1024

/** Makes a new `work` folder, first unmounting a stick an interrupted run left there. */
export const makeRealFilesStick = async (corpusDir: string, work: string, bps = USB2_BPS, cgroup = 'xs-bench-stick'): Promise<RealFilesStick> => {
  const corpus = await realFilesTarball(corpusDir, 'bz2')
  const stick = await makeSignedStick(work, [{ source: corpus.tarball, base: 'os-real', name: 'real', ext: 'tar.bz2' }])
  const usb2 = readRateLimit(stick.image.device, bps, cgroup)
  return {
    corpus, image: stick.image, onStick: stick.onStick, tarball: join(stick.onStick, 'os-real-tree.tar.bz2'), keys: stick.keys, usb2,
    dispose: async () => {
      usb2.remove()
      stick.image.detach()
    },
  }
}
