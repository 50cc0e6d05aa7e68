import { existsSync, realpathSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { XsError } from '@xs-rsync/core'
import type { SetupAssets } from './setup-plan.js'

/** The xs-rsync package folder (holds bin/, dist/, share/). */
export const packageDir = (): string => fileURLToPath(new URL('../../', import.meta.url))

/** The name units use for the program when /usr/bin/xs-rsync is it (the Debian package's link). */
export const SYSTEM_BIN = '/usr/bin/xs-rsync'

const realpathOr = (p: string): string | undefined => {
  try { return realpathSync(p) } catch { return undefined }
}

/**
 * The program the units run: /usr/bin/xs-rsync when that is this program (the
 * Debian package links it there, and its units name it), otherwise this
 * package's bin/xs-rsync.js (an npm install). Under --prefix, PREFIX/usr/bin/xs-rsync
 * is looked at.
 */
export const binPath = (pkg = packageDir(), prefix = ''): string => {
  const own = join(pkg, 'bin', 'xs-rsync.js')
  const sys = realpathOr(prefix + SYSTEM_BIN)
  return sys !== undefined && sys === realpathOr(own) ? SYSTEM_BIN : own
}

/**
 * Where the units and the udev rule are: share/{systemd,udev} in the release
 * tarball (scripts/make-release.sh copies them there), the repository's
 * systemd/ and udev/ folders in a checkout.
 */
export const assetDirs = (pkg = packageDir()): { share: string, systemd: string, udev: string, docs?: string } => {
  const share = join(pkg, 'share')
  if (existsSync(join(share, 'systemd'))) {
    return { share, systemd: join(share, 'systemd'), udev: join(share, 'udev'), docs: join(share, 'doc') }
  }
  const repo = join(pkg, '..', '..')
  return { share, systemd: join(repo, 'systemd'), udev: join(repo, 'udev'), docs: join(repo, 'docs') }
}

const readAll = async (dir: string, re: RegExp): Promise<Map<string, string>> => {
  const names = (await readdir(dir)).filter((n) => re.test(n)).sort()
  return new Map(await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n), 'utf8')] as const)))
}

/** Read every file setup installs; E_NOT_FOUND naming what is missing (a broken install). */
export const readSetupAssets = async (pkg = packageDir()): Promise<SetupAssets> => {
  const d = assetDirs(pkg)
  try {
    const units = await readAll(d.systemd, /\.(service|socket|timer)$/)
    const udevRules = await readAll(d.udev, /\.rules$/)
    if (units.size === 0 || udevRules.size === 0) throw Object.assign(new Error(`no units in ${d.systemd} or no rules in ${d.udev}`), { code: 'ENOENT' })
    const adminGuide = d.docs === undefined ? undefined : await readFile(join(d.docs, 'admin-guide.md'), 'utf8').catch(() => undefined)
    return {
      units,
      udevRules,
      config: await readFile(join(d.share, 'xs-rsync.conf'), 'utf8'),
      rsyncdTemplate: await readFile(join(d.share, 'rsyncd.conf.in'), 'utf8'),
      ...(adminGuide !== undefined && { adminGuide }),
    }
  } catch (er) {
    throw new XsError('E_NOT_FOUND', `xs-rsync is not installed completely: ${(er as Error).message} (reinstall the release tarball)`, { cause: er })
  }
}
