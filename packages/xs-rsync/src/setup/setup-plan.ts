import { dirname, join } from 'node:path'
import type { XsConfig } from '@xs-rsync/core'
import { publishLayout } from '@xs-rsync/publisher'
import { renderUnit, renderUnitBody } from './render-unit.js'

/** The service user that owns the store and runs the rsync daemon. */
export const SERVICE_USER = 'xs-rsync'

/** Units enabled by setup, each with the target whose .wants/ gets the link. */
export const ENABLED_UNITS = [
  { unit: 'xs-rsyncd.socket', target: 'sockets.target' },
  { unit: 'xs-rsync-clean-tmp.timer', target: 'timers.target' },
] as const

/** Who owns a folder or file: the service user, or root (the default for what setup writes). */
export type Owner = 'service' | 'root'

export type SetupStep =
  | { kind: 'user', name: string, home: string }
  /** `createOnly`: a folder that may be shared with others; made when missing, never changed. */
  | { kind: 'dir', path: string, mode: number, owner: Owner, createOnly: boolean }
  | { kind: 'file', path: string, text: string, mode: number, owner: Owner, keep: boolean, why: string }
  /** A copy setup wrote earlier that would hide the Debian package's file. */
  | { kind: 'remove', path: string, why: string }
  | { kind: 'enable', units: string[], now: boolean }
  | { kind: 'daemon-reload' }
  | { kind: 'udev-reload' }
  | { kind: 'rsyncd-conf', path: string }

/** A step and whether it has to run: 'do' (run it), 'ok' (already so) or 'skip' (not here; `note` says why). */
export interface PlannedStep {
  step: SetupStep
  status: 'do' | 'ok' | 'skip'
  note?: string
}

/** What is on the machine now (gathered by observeSetup; paths as on the target system). */
export interface ObservedState {
  /** Existing paths: type, mode (permission bits), owner, and text for files. */
  paths: ReadonlyMap<string, { dir: boolean, mode: number, uid: number, gid: number, text?: string }>
  /** The service user's ids, when it exists. */
  user?: { uid: number, gid: number }
  /** systemd is the running init (/run/systemd/system exists). */
  systemd: boolean
  /** udevd is running (/run/udev/control exists). */
  udev: boolean
}

/** The files setup installs, read from the package. */
export interface SetupAssets {
  /** name -> text: xs-rsyncd.socket, xs-rsyncd@.service, ... */
  units: ReadonlyMap<string, string>
  /** name -> text: 90-xs-rsync.rules */
  udevRules: ReadonlyMap<string, string>
  /** The commented default config file. */
  config: string
  /** The rsync config template. */
  rsyncdTemplate: string
  /** The admin guide, linked from the units' Documentation=. */
  adminGuide?: string
}

export interface SetupInput {
  config: XsConfig
  /** Where the config file goes. */
  configFile: string
  /** The xs-rsync program the units run. */
  bin: string
  assets: SetupAssets
  /** '' for the running system; otherwise install into this folder as if it were / (tests, images). */
  prefix: string
  observed: ObservedState
}

export const UNIT_DIR = '/etc/systemd/system'
export const UDEV_DIR = '/etc/udev/rules.d'
/** Where the Debian package installs the units and the rule (so /etc keeps only the admin's drop-ins). */
export const PACKAGED_UNIT_DIR = '/lib/systemd/system'
export const PACKAGED_UDEV_DIR = '/lib/udev/rules.d'
/** The first line of every unit and rule setup writes. */
export const SETUP_HEADER = '# Installed by "xs-rsync setup"'
export const DOC_DIR = '/usr/share/doc/xs-rsync'

const sameOwner = (o: Owner, st: { uid: number, gid: number }, user: ObservedState['user']): boolean =>
  o === 'root' ? st.uid === 0 : user !== undefined && st.uid === user.uid && st.gid === user.gid

/**
 * Everything setup does, in order, each step marked 'do', 'ok' or 'skip'
 * against the observed state. Pure: `--dry-run` prints it, otherwise
 * applySetup runs the 'do' steps; a second run finds nothing to do.
 *
 * Under a prefix, files go to PREFIX/path but keep naming the real paths
 * inside; what acts on the running system (creating the user, handing the
 * store to it, reloading systemd and udev, generating the rsync config) is
 * skipped, and units are enabled with `systemctl --root=PREFIX`.
 */
export const planSetup = (input: SetupInput): PlannedStep[] => {
  const { config, observed, prefix, assets } = input
  const onHost = prefix === ''
  const out: PlannedStep[] = []
  const layout = publishLayout(config.root)
  const userExists = observed.user !== undefined

  if (!onHost) {
    out.push({ step: { kind: 'user', name: SERVICE_USER, home: config.root }, status: 'skip', note: 'not under --prefix: files stay owned by the user running setup' })
  } else {
    out.push({ step: { kind: 'user', name: SERVICE_USER, home: config.root }, status: userExists ? 'ok' : 'do' })
  }

  const dir = (path: string, mode: number, owner: Owner, createOnly = owner === 'root'): void => {
    const st = observed.paths.get(path)
    const right = st !== undefined && st.dir && (createOnly || (st.mode === mode && (!onHost || sameOwner(owner, st, observed.user))))
    out.push({ step: { kind: 'dir', path, mode, owner, createOnly }, status: right ? 'ok' : 'do' })
  }
  const file = (path: string, text: string, mode: number, owner: Owner, keep: boolean, why: string): void => {
    const st = observed.paths.get(path)
    const ownerOk = st !== undefined && (!onHost || sameOwner(owner, st, observed.user))
    const status = st === undefined || st.dir ? 'do'
      : keep ? (st.mode === mode && ownerOk ? 'ok' : 'do')
        : st.text === text && st.mode === mode && ownerOk ? 'ok' : 'do'
    const note = keep && st !== undefined && !st.dir && st.text !== text ? 'kept as it is (yours differs from the shipped one)' : undefined
    out.push({ step: { kind: 'file', path, text, mode, owner, keep, why }, status, ...(note !== undefined && { note }) })
  }

  // the store, owned by the service user (the rsync daemon runs as it and
  // the rendered config's "uid" is the store owner)
  dir(config.root, 0o755, 'service')
  for (const d of [layout.packed, layout.pub, layout.builds, layout.trees, layout.state, layout.records, layout.ownership, layout.tmp]) {
    dir(d, 0o755, 'service')
  }
  // the one file the read-only rsync daemon writes ("max connections")
  file(join(layout.state, 'rsyncd.lock'), '', 0o644, 'service', true, 'rsync daemon connection count')

  // configuration, owned by root
  const etcDirs = [...new Set([dirname(input.configFile), dirname(config.rsyncdConf), dirname(config.rsyncdTemplate), config.keyring])]
  for (const d of etcDirs) dir(d, 0o755, 'root')
  file(input.configFile, assets.config, 0o644, 'root', true, 'settings')
  file(config.rsyncdTemplate, assets.rsyncdTemplate, 0o644, 'root', true, 'rsync config template')

  // units and the udev rule, rendered with this config's paths. Where the
  // Debian package installed the same text in /lib, that one is used: setup
  // writes no copy to /etc (a copy would hide the package's next version),
  // and removes a copy an earlier setup wrote. Drop-ins are never touched.
  const params = { bin: input.bin, root: config.root, rsyncdConf: config.rsyncdConf, backend: config.backend }
  let packagedUnits = 0
  const install = (name: string, shipped: string, dir: string, pkgDir: string, why: string): PlannedStep => {
    const body = renderUnitBody(name, shipped, params)
    const pkgPath = join(pkgDir, name)
    const pkg = observed.paths.get(pkgPath)
    if (pkg !== undefined && !pkg.dir && pkg.text === body) {
      if (dir === UNIT_DIR) packagedUnits++
      out.push({ step: { kind: 'file', path: pkgPath, text: body, mode: 0o644, owner: 'root', keep: true, why: `${why} from the Debian package` }, status: 'ok' })
      const copy = observed.paths.get(join(dir, name))
      if (copy !== undefined && !copy.dir && copy.text?.startsWith(SETUP_HEADER) === true) {
        out.push({ step: { kind: 'remove', path: join(dir, name), why: `an earlier setup's copy, which would hide ${pkgPath}` }, status: 'do' })
      }
    } else {
      file(join(dir, name), renderUnit(name, shipped, params), 0o644, 'root', false, why)
    }
    return out.at(-1)!
  }
  const unitSteps: PlannedStep[] = []
  dir(UNIT_DIR, 0o755, 'root')
  for (const [name, text] of [...assets.units].sort()) unitSteps.push(install(name, text, UNIT_DIR, PACKAGED_UNIT_DIR, 'systemd unit'))
  dir(UDEV_DIR, 0o755, 'root')
  const ruleSteps: PlannedStep[] = []
  for (const [name, text] of [...assets.udevRules].sort()) ruleSteps.push(install(name, text, UDEV_DIR, PACKAGED_UDEV_DIR, 'udev rule'))
  if (assets.adminGuide !== undefined) {
    dir(DOC_DIR, 0o755, 'root')
    file(join(DOC_DIR, 'admin-guide.md'), assets.adminGuide, 0o644, 'root', false, 'admin guide')
  }

  const unitsChanged = unitSteps.some((s) => s.status === 'do')
  if (onHost) {
    out.push(observed.systemd
      ? { step: { kind: 'daemon-reload' }, status: unitsChanged ? 'do' : 'ok' }
      : { step: { kind: 'daemon-reload' }, status: 'skip', note: 'systemd is not running' })
  }
  const enabled = ENABLED_UNITS.every(({ unit, target }) => observed.paths.has(join(UNIT_DIR, `${target}.wants`, unit)))
  const enable: SetupStep = { kind: 'enable', units: ENABLED_UNITS.map((u) => u.unit), now: onHost && observed.systemd }
  out.push(packagedUnits > 0 && packagedUnits === assets.units.size
    // the package's postinst enabled them (deb-systemd-helper); an admin who disabled one meant it
    ? { step: enable, status: 'skip', note: 'the Debian package enables them when it is installed' }
    : { step: enable, status: enabled ? 'ok' : 'do' })
  if (onHost) {
    out.push(observed.udev
      ? { step: { kind: 'udev-reload' }, status: ruleSteps.some((s) => s.status === 'do') ? 'do' : 'ok' }
      : { step: { kind: 'udev-reload' }, status: 'skip', note: 'udev is not running' })
    out.push({ step: { kind: 'rsyncd-conf', path: config.rsyncdConf }, status: observed.paths.has(config.rsyncdConf) ? 'ok' : 'do' })
  } else {
    out.push({ step: { kind: 'rsyncd-conf', path: config.rsyncdConf }, status: 'skip', note: 'under --prefix: run "xs-rsync refresh" on the server' })
  }
  return out
}

/** Every path planSetup may look at, for observeSetup. Pure. */
export const pathsToObserve = (input: Omit<SetupInput, 'observed'>): string[] => {
  const empty: ObservedState = { paths: new Map(), systemd: false, udev: false }
  const steps = planSetup({ ...input, observed: empty })
  const paths = steps.flatMap(({ step }) => step.kind === 'dir' || step.kind === 'file' ? [step.path]
    : step.kind === 'rsyncd-conf' ? [step.path] : [])
  const packaged = [...[...input.assets.units.keys()].map((n) => join(PACKAGED_UNIT_DIR, n)),
    ...[...input.assets.udevRules.keys()].map((n) => join(PACKAGED_UDEV_DIR, n)),
    ...[...input.assets.units.keys()].map((n) => join(UNIT_DIR, n)), ...[...input.assets.udevRules.keys()].map((n) => join(UDEV_DIR, n))]
  return [...new Set([...paths, ...packaged, ...ENABLED_UNITS.map(({ unit, target }) => join(UNIT_DIR, `${target}.wants`, unit))])]
}
