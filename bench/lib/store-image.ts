/**
 * A store on its own ext4 file system (mkfs.ext4 defaults: with a journal,
 * as a school server's store is): an image file attached to a loop device
 * and mounted read-write, so a benchmark can give the store exactly the free
 * bytes and inodes it wants. `leaveFree` fills the file system with ballast
 * (one folder outside the store: fallocated files, and empty files for the
 * inodes) until statfs reports the wanted free bytes (to one block) and free
 * inodes (exactly). Root only. The image is sparse; `dispose` unmounts it,
 * detaches the loop device and deletes the image (nothing is deleted inside
 * it, so no inode is freed on the host's disk).
 */
import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, statfsSync } from 'node:fs'
import { join } from 'node:path'

export interface FsUsage {
  /** Free bytes for unprivileged writers (statfs bavail x bsize). */
  freeBytes: number
  /** Free inodes (statfs ffree). */
  freeInodes: number
}

export interface StoreImage {
  mountpoint: string
  device: string
  usage: () => FsUsage
  leaveFree: (bytes: number, inodes: number) => FsUsage
  dispose: () => void
}

export const fsUsage = (path: string): FsUsage => {
  const s = statfsSync(path)
  return { freeBytes: s.bavail * s.bsize, freeInodes: s.ffree }
}

/** A new image of `bytes` with at least `inodes` inodes, mounted at `mountpoint`. */
export const makeStoreImage = (image: string, mountpoint: string, bytes: number, inodes: number): StoreImage => {
  execFileSync('rm', ['-f', image])
  execFileSync('truncate', ['-s', String(Math.ceil(bytes / 4096) * 4096), image])
  execFileSync('mkfs.ext4', ['-q', '-F', '-N', String(inodes), image])
  const device = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim()
  mkdirSync(mountpoint, { recursive: true })
  execFileSync('mount', [device, mountpoint])
  const ballast = join(mountpoint, 'ballast')
  let pieces = 0
  const usage = (): FsUsage => fsUsage(mountpoint)
  return {
    mountpoint, device, usage,
    leaveFree: (bytes, inodes) => {
      mkdirSync(ballast, { recursive: true })
      // inodes first (each empty file takes an inode and no block), then bytes, a few passes
      // (a large fallocated file may take extent blocks beyond its size)
      let u = usage()
      if (u.freeInodes < inodes + 8) throw new Error(`store image: ${u.freeInodes} free inodes, ${inodes} wanted`)
      while (u.freeInodes > inodes + 8) {
        for (let n = u.freeInodes - inodes - 8; n > 0; n--) closeSync(openSync(join(ballast, `i${pieces++}`), 'wx'))
        u = usage()
      }
      for (let pass = 0; pass < 6 && u.freeBytes - bytes >= 4096; pass++) {
        // the fallocated pieces (ballast folder blocks, extent blocks) use the last free inodes
        execFileSync('fallocate', ['-l', String(Math.floor((u.freeBytes - bytes) / 4096) * 4096), join(ballast, `b${pieces++}`)])
        u = usage()
      }
      while (u.freeInodes > inodes) {
        closeSync(openSync(join(ballast, `i${pieces++}`), 'wx'))
        u = usage()
      }
      // a new block of the ballast folder may have taken one block more
      if (u.freeBytes < bytes - 8192 || u.freeBytes > bytes + 8192) throw new Error(`store image: ${u.freeBytes} free bytes after the ballast, ${bytes} wanted`)
      if (u.freeInodes !== inodes) throw new Error(`store image: ${u.freeInodes} free inodes after the ballast, ${inodes} wanted`)
      return u
    },
    dispose: () => {
      try { execFileSync('umount', [mountpoint]) } catch {}
      try { execFileSync('losetup', ['-d', device]) } catch {}
      execFileSync('rm', ['-f', image])
    },
  }
}
