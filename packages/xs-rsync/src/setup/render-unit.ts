import type { Backend } from '@xs-rsync/core'
import { XsError } from '@xs-rsync/core'

/** The paths and choices the shipped units are rendered with. */
export interface UnitParams {
  /** The xs-rsync program (bin/xs-rsync.js of the installed package). */
  bin: string
  root: string
  rsyncdConf: string
  backend: Backend
}

/** What the shipped files say; setup replaces these. */
export const SHIPPED = {
  bin: '/usr/bin/xs-rsync',
  root: '/library/xs-rsync',
  rsyncdConf: '/etc/xs-rsync/rsyncd.conf',
} as const

// systemd splits on spaces, expands % specifiers and $ variables and reads
// quotes and backslashes: a path with any of these is refused, not escaped.
const SAFE_PATH = /^(\/[A-Za-z0-9._+-]+)+$/

/** A path fit to be written into a unit file as-is; E_CONFIG naming `what` otherwise. */
export const unitPath = (p: string, what: string): string => {
  if (!SAFE_PATH.test(p) || p.split('/').includes('..')) {
    throw new XsError('E_CONFIG', `${what} ${JSON.stringify(p)} cannot be used in a systemd unit: use an absolute path of letters, digits and . _ + - only`,
      { actual: p })
  }
  return p
}

const FAKEROOT_EXEC = (root: string): string => `/usr/bin/fakeroot -i ${root}/state/fakeroot.state -- `

/**
 * A shipped unit (or udev rule) with this server's paths: the program, store
 * and config paths replaced, and for xs-rsyncd@.service with the fakeroot
 * backend rsync started under `fakeroot -i`, with a condition that refuses to
 * serve while the state file is missing. With the shipped paths and the
 * fake-super backend it is the shipped text itself (what the Debian package
 * installs in /lib/systemd/system). Pure.
 */
export const renderUnitBody = (name: string, shipped: string, p: UnitParams): string => {
  const bin = unitPath(p.bin, 'the xs-rsync program')
  const root = unitPath(p.root.replace(/(.)\/+$/, '$1'), 'the store root')
  const conf = unitPath(p.rsyncdConf, 'the rsync config')
  // through markers, so a new value holding another shipped path is not replaced again
  let text = shipped
    .replaceAll(`${SHIPPED.bin} `, '\0bin\0 ')
    .replaceAll(SHIPPED.rsyncdConf, '\0conf\0')
    .replaceAll(SHIPPED.root, '\0root\0')
    .replaceAll('\0bin\0', bin)
    .replaceAll('\0conf\0', conf)
    .replaceAll('\0root\0', root)
  if (name === 'xs-rsyncd@.service' && p.backend === 'fakeroot') {
    const exec = 'ExecStart=/usr/bin/rsync '
    const unit = '[Unit]\n'
    if (!text.includes(exec) || !text.includes(unit)) {
      throw new XsError('E_INTERNAL', `${name}: no "${exec.trim()}" or [Unit] to render the fakeroot backend into`)
    }
    text = text
      .replace(exec, `ExecStart=${FAKEROOT_EXEC(root)}/usr/bin/rsync `)
      .replace(unit, `${unit}ConditionPathExists=${root}/state/fakeroot.state\n`)
  }
  return text
}

/** renderUnitBody with a header saying setup wrote it and how to make local changes. Pure. */
export const renderUnit = (name: string, shipped: string, p: UnitParams): string => {
  const text = renderUnitBody(name, shipped, p)
  const root = p.root.replace(/(.)\/+$/, '$1')
  const header = `# Installed by "xs-rsync setup" (store ${root}, backend ${p.backend}); the next setup\n` +
    `# replaces this file. Local changes: "systemctl edit ${name}" (drop-ins are kept).\n`
  return name.endsWith('.rules') ? header.replace(/systemctl edit \S+/, `a file of your own in /etc/udev/rules.d`) + text : header + text
}

/** The command line of the unit's (last) ExecStart=, split as systemd does for our plain arguments. */
export const execStartOf = (unitText: string): string[] => {
  const lines = unitText.split('\n').filter((l) => l.startsWith('ExecStart='))
  const last = lines.at(-1)?.slice('ExecStart='.length).trim()
  if (last === undefined || last === '') throw new XsError('E_INTERNAL', 'unit has no ExecStart=')
  return last.split(/\s+/)
}
