import { readdir, readFile, realpath, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'

/** The fields of a `drivelist` drive that matter here. */
export interface DriveInfo {
  device: string
  isUSB: boolean | null
  isRemovable: boolean
  isVirtual: boolean
  isSystem: boolean
}

/** Lists the block devices that may be a plugged-in stick, and says how. */
export interface DriveLister {
  /** For the log: "drivelist" or "sysfs". */
  name: string
  /** Block devices: each partition of a stick, or the stick itself when it has none. */
  list(): Promise<string[]>
}

/** USB or removable drives that are neither virtual nor the system disk. Pure. */
export const selectStickDrives = (drives: readonly DriveInfo[]): string[] =>
  drives.filter((d) => !d.isVirtual && !d.isSystem && (d.isUSB === true || d.isRemovable)).map((d) => d.device)

const SYS_BLOCK = '/sys/class/block'

/** A drive's partitions (from sysfs), or the drive itself when it has none. */
export const devicesOfDrive = async (drive: string, sysBlock = SYS_BLOCK): Promise<string[]> => {
  const name = basename(drive)
  const parts: string[] = []
  for (const e of await readdir(join(sysBlock, name)).catch(() => [])) {
    if (await stat(join(sysBlock, name, e, 'partition')).then(() => true, () => false)) parts.push(`/dev/${e}`)
  }
  return parts.length > 0 ? parts.sort() : [drive]
}

/** drivelist (lsblk underneath): its drives, then their partitions. */
const drivelistLister = (list: () => Promise<DriveInfo[]>): DriveLister => ({
  name: 'drivelist',
  list: async () => (await Promise.all(selectStickDrives(await list()).map((d) => devicesOfDrive(d)))).flat(),
})

/**
 * Without drivelist: whole disks in sysfs that are removable or hang off a
 * USB controller (their sysfs path runs through ".../usbN/...").
 */
export const sysfsLister = (sysBlock = SYS_BLOCK): DriveLister => ({
  name: 'sysfs',
  list: async () => {
    const out: string[] = []
    for (const name of (await readdir(sysBlock)).sort()) {
      const dir = join(sysBlock, name)
      if (await stat(join(dir, 'partition')).then(() => true, () => false)) continue
      const removable = (await readFile(join(dir, 'removable'), 'utf8').catch(() => '0')).trim() === '1'
      const path = await realpath(dir).catch(() => dir)
      if (path.includes('/virtual/')) continue
      if (removable || /\/usb\d+\//.test(path)) out.push(...(await devicesOfDrive(`/dev/${name}`, sysBlock)))
    }
    return out
  },
})

/** drivelist when its native module loads, sysfs otherwise (`why` says what failed). */
export const loadDriveLister = async (): Promise<{ lister: DriveLister, why?: string }> => {
  const name = 'drivelist' // a variable: an optional dependency must not be resolved at build time
  try {
    const mod = (await import(name)) as { list: () => Promise<DriveInfo[]> }
    if (typeof mod.list !== 'function') throw new Error('drivelist has no list()')
    return { lister: drivelistLister(mod.list) }
  } catch (er) {
    return { lister: sysfsLister(), why: `drivelist unavailable (${(er as Error).message.split('\n')[0]})` }
  }
}
