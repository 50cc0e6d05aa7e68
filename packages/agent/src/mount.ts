import { mkdir, mkdtemp, realpath, rmdir } from 'node:fs/promises'
import { readMountInfo } from './read-mount-info.js'
import { basename, join } from 'node:path'
import { type LogFn, XsError } from '@xs-rsync/core'
import { runTool } from './run-tool.js'

/** How a mount was made, so it is undone the same way. */
export type MountMethod = 'kernel' | 'fusefat'

export interface Mounted {
  dir: string
  method: MountMethod
}

/** Never run anything from the stick, never honour its device nodes or setuid bits. */
export const MOUNT_OPTIONS = 'ro,nosuid,nodev,noexec'

const FAT_TYPES = new Set(['vfat', 'msdos'])

/** True when `dir` is a mount point now. */
export const isMountPoint = async (dir: string): Promise<boolean> =>
  readMountInfo().some((m) => m.mountPoint === dir)

const mountError = (device: string, tool: string, stderr: string, code: number): XsError =>
  new XsError('E_MOUNT', `cannot mount ${device}: ${tool}: ${stderr.trim().split('\n')[0] || `exit ${code}`}`, { path: device })

/**
 * Mount `device` read-only, nosuid, nodev, noexec in a fresh folder under
 * `mountBase`. FAT sticks on a kernel without vfat go through fusefat
 * (userspace, read-only). The folder is removed again when mounting fails.
 */
export const mountReadOnly = async (
  device: string, fsType: string, mountBase: string, log: LogFn,
): Promise<Mounted> => {
  await mkdir(mountBase, { recursive: true, mode: 0o755 })
  // The real path: mountinfo shows mount points with symlinks resolved.
  const base = await realpath(mountBase)
  const dir = await mkdtemp(join(base, `${basename(device).replace(/[^\w.-]/g, '_')}-`))
  try {
    const r = await runTool('mount', ['-t', fsType, '-o', MOUNT_OPTIONS, device, dir])
    if (r.code === 0) return await checked({ dir, method: 'kernel' }, device, 'mount')
    if (!(FAT_TYPES.has(fsType) && /unknown filesystem type/i.test(r.stderr))) {
      throw mountError(device, 'mount', r.stderr, r.code)
    }
    if (device.includes(',')) throw mountError(device, 'fusefat', 'device path contains a comma', 0)
    log('info', `The kernel cannot mount ${fsType}; reading ${device} through fusefat (read-only)`)
    const f = await runTool('fusefat', ['-o', `${MOUNT_OPTIONS},fsname=${device},subtype=fusefat`, device, dir])
    if (f.code !== 0) throw mountError(device, 'fusefat', f.code < 0 ? 'crashed or timed out (damaged FAT filesystem?)' : f.stderr, f.code)
    return await checked({ dir, method: 'fusefat' }, device, 'fusefat')
  } catch (er) {
    await rmdir(dir).catch(() => {})
    throw er
  }
}

/** A tool that says it mounted must really have mounted. */
const checked = async (m: Mounted, device: string, tool: string): Promise<Mounted> => {
  if (!(await isMountPoint(m.dir))) throw mountError(device, tool, `reported success but ${m.dir} is not mounted`, 0)
  return m
}
