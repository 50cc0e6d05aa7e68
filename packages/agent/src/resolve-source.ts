import { realpath, stat } from 'node:fs/promises'
import { readMountInfo } from './read-mount-info.js'
import { basename, resolve } from 'node:path'
import { type LogFn, silentLog, XsError } from '@xs-rsync/core'
import { checkBuildsDir, findBuildsDir, isBuildsDirName } from './find-builds-dir.js'
import { mountReadOnly, type Mounted } from './mount.js'
import type { MountEntry } from './mount-info.js'
import { type FilesystemProbe, probeFilesystem } from './probe-filesystem.js'
import { unmount } from './unmount.js'

export interface ResolvedSource {
  /** The xs-xobuilds folder; null when the stick holds no builds. */
  buildsDir: string | null
  /** For people: the device and its label, or the folder. */
  label: string
  /** The block device, when SOURCE was one. */
  device?: string
  /** Filesystem type of the device ("ext4", "vfat"). */
  fsType?: string
  /**
   * True when the folder was mounted through fusefat: it shows FAT short
   * (8.3) names in upper case (`A.MD5` for a file the NOC wrote as `a.md5`),
   * so names must be matched against the manifest without case.
   */
  shortNamesUpperCase: boolean
  /**
   * Undo what resolveSource did (unmount, remove the mount folder). Never
   * rejects: a failure is logged as a warning (the stick is mounted read-only,
   * so nothing is lost). Safe to call twice.
   */
  release(): Promise<void>
}

export interface ResolveSourceOptions {
  /** Where block devices are mounted (config.mountBase). */
  mountBase: string
  log?: LogFn
  signal?: AbortSignal
}

const majorMinor = (rdev: number): string => {
  const d = BigInt(rdev)
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn)
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn)
  return `${major}:${minor}`
}

/** An existing mount of the device: matched by device number, or by source path (FUSE mounts). */
export const findMountOf = (mounts: MountEntry[], device: string, devId: string): MountEntry | undefined => {
  const hits = mounts.filter((m) => m.devId === devId || m.source === device)
  return hits.find((m) => m.root === '/') ?? hits[0]
}

/** The stick's label is the NOC's (or anyone's) text: no control characters into the log, bounded. */
export const printableLabel = (label: string): string =>
  label.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '?').slice(0, 40)

const describeDevice = (device: string, probe: FilesystemProbe): string =>
  probe.label === undefined ? device : `${device} (label "${printableLabel(probe.label)}")`

const folderSource = async (dir: string, label: string): Promise<Omit<ResolvedSource, 'release' | 'shortNamesUpperCase'>> => ({
  buildsDir: isBuildsDirName(basename(dir)) ? await checkBuildsDir(dir) : await findBuildsDir(dir),
  label,
})

/**
 * Turn SOURCE (a block device, a mount point, a folder holding xs-xobuilds,
 * or that folder itself) into the xs-xobuilds folder to read. A device that
 * is not mounted yet is mounted read-only under `mountBase` until release().
 */
export const resolveSource = async (source: string, opts: ResolveSourceOptions): Promise<ResolvedSource> => {
  const log = opts.log ?? silentLog
  const abs = resolve(source)
  const st = await stat(abs).catch((er: NodeJS.ErrnoException) => {
    throw new XsError('E_NOT_FOUND', `${abs} does not exist: ${er.message}`, { path: abs, cause: er })
  })
  const noop = async (): Promise<void> => {}
  if (st.isDirectory()) {
    // The folder itself may be named xs-xobuilds: refuse it if it is a symlink (lstat).
    const dir = isBuildsDirName(basename(abs)) ? abs : await realpath(abs)
    return { ...(await folderSource(dir, dir)), shortNamesUpperCase: false, release: noop }
  }
  if (!st.isBlockDevice()) {
    throw new XsError('E_NOT_FOUND', `${abs} is neither a folder nor a block device`, { path: abs })
  }
  const device = await realpath(abs)
  if (process.geteuid?.() !== 0) {
    // Without root, blkid cannot read the device and mount is refused: say so
    // rather than "no filesystem". A stick someone else mounted is read there.
    const mountedAt = findMountOf(readMountInfo(), device, majorMinor(st.rdev))
    if (mountedAt === undefined) {
      throw new XsError('E_PERMISSION', `${device} is not mounted, and only root may read and mount a device`, { path: device })
    }
    log('info', `${device} is already mounted at ${mountedAt.mountPoint}; reading it there`)
    return {
      ...(await folderSource(mountedAt.mountPoint, device)),
      device,
      fsType: mountedAt.fsType,
      shortNamesUpperCase: mountedAt.fsType === 'fuse.fusefat',
      release: noop,
    }
  }
  const probe = await probeFilesystem(device)
  const fsType = probe.type
  const label = describeDevice(device, probe)
  if (fsType === undefined && probe.ptType !== undefined) {
    throw new XsError('E_MOUNT', `${label} is a whole disk with a ${probe.ptType} partition table: ` +
      `name the partition that holds the builds (such as ${device}1)`, { path: device })
  }
  if (fsType === undefined || probe.usage !== 'filesystem') {
    throw new XsError('E_MOUNT', `${label} holds no filesystem that can be read` +
      (fsType === undefined ? '' : ` (it is ${fsType})`), { path: device })
  }
  const devId = majorMinor((await stat(device)).rdev)
  const existing = findMountOf(readMountInfo(), device, devId)
  if (existing !== undefined) {
    log('info', `${label} is already mounted at ${existing.mountPoint}; reading it there`)
    return {
      ...(await folderSource(existing.mountPoint, label)),
      device,
      fsType,
      shortNamesUpperCase: existing.fsType === 'fuse.fusefat',
      release: noop,
    }
  }
  opts.signal?.throwIfAborted()
  const mounted: Mounted = await mountReadOnly(device, fsType, opts.mountBase, log)
  log('info', `Mounted ${label} (${fsType}) read-only at ${mounted.dir}`)
  let released = false
  const release = async (): Promise<void> => {
    if (released) return
    released = true
    // Silent when it works: the caller's final line must stay the last one.
    try {
      await unmount(mounted)
    } catch (er) {
      log('warning', `${(er as Error).message}; unmount it by hand (umount ${mounted.dir}) before unplugging the stick`)
    }
  }
  try {
    return {
      ...(await folderSource(mounted.dir, label)),
      device,
      fsType,
      shortNamesUpperCase: mounted.method === 'fusefat',
      release,
    }
  } catch (er) {
    await release()
    throw er
  }
}
