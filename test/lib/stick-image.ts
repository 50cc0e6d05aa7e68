// Real stick images for tests: ext4 (mkfs.ext4 -d) and FAT (mkfs.vfat + mtools,
// no mount), attached to loop devices that are always detached in teardown.
import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

interface Teardown { teardown: (fn: () => unknown) => void }

/** relative path -> file content; folders are implied by the paths. */
export type StickFiles = Record<string, string | Uint8Array>

export interface ImageOptions {
  /** Image size. Default 16 MiB. */
  mib?: number
  label?: string
}

const run = (cmd: string, args: string[]): string =>
  execFileSync(cmd, args, { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] })

const blank = (file: string, mib: number): void => {
  closeSync(openSync(file, 'w'))
  truncateSync(file, mib * 1024 * 1024)
}

const writeTree = (dir: string, files: StickFiles): string => {
  mkdirSync(dir, { recursive: true })
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true })
    writeFileSync(join(dir, rel), data)
  }
  return dir
}

/** An ext4 image holding a copy of folder `src`, made without mounting. */
export const ext4ImageOf = (file: string, src: string, opts: ImageOptions = {}): string => {
  blank(file, opts.mib ?? 16)
  run('mkfs.ext4', ['-q', '-F', '-L', opts.label ?? 'XSTEST', '-d', src, file])
  return file
}

/** A FAT image holding a copy of folder `src` (long names kept by mtools), made without mounting. */
export const fatImageOf = (file: string, src: string, opts: ImageOptions = {}): string => {
  blank(file, opts.mib ?? 16)
  run('mkfs.vfat', ['-n', opts.label ?? 'XSTEST', file])
  const names = readdirSync(src)
  if (names.length > 0) run('mcopy', ['-s', '-i', file, ...names.map((n) => join(src, n)), '::'])
  return file
}

/** An ext4 image holding `files`. */
export const makeExt4Image = (file: string, files: StickFiles, opts: ImageOptions = {}): string =>
  ext4ImageOf(file, writeTree(`${file}.d`, files), opts)

/** A FAT image holding `files`. */
export const makeFatImage = (file: string, files: StickFiles, opts: ImageOptions = {}): string =>
  fatImageOf(file, writeTree(`${file}.d`, files), opts)

const mountsOf = (device: string): string[] =>
  readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.indexOf('-') > 0 && f[f.indexOf('-') + 2] === device)
    .map((f) => (f[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))

/** True when `device` is mounted anywhere (as the mount source). */
export const isMounted = (device: string): boolean => mountsOf(device).length > 0

/** Attach `image` to a free loop device; teardown unmounts what is left and detaches it. */
export const attachLoop = (t: Teardown, image: string): string => {
  const device = run('losetup', ['-f', '--show', image]).trim()
  t.teardown(() => {
    for (const m of mountsOf(device)) {
      try { run('umount', ['-l', m]) } catch {}
    }
    try { run('losetup', ['-d', device]) } catch {}
  })
  return device
}
