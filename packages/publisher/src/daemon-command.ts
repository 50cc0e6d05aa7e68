import type { Backend } from '@xs-rsync/core'

export interface DaemonCommandOptions {
  backend: Backend
  /** ROOT/state/fakeroot.state (fakeroot backend). */
  fakerootState: string
  /** rsync's own arguments (--daemon ...). */
  rsyncArgs: string[]
  /**
   * Run as this user instead (started as root on a store the service user
   * owns). rsync 3.5 started as root walks the module path with O_NOFOLLOW,
   * so it cannot serve the build symlinks; as the store owner it can, and it
   * needs nothing but reading the store, binding the port and chroot into a
   * build's tree (the generated config's `use chroot = yes`).
   */
  asOwner?: { uid: number, gid: number }
  /**
   * The daemon logs here (`log file`, a FIFO that `xs-rsync serve` relays to
   * the configured syslog socket) instead of syslog(3)'s fixed /dev/log.
   */
  logFile?: string
  /** The daemon cannot chroot (unprivileged, no CAP_SYS_CHROOT): `use chroot = no` overrides the config. */
  noChroot?: boolean
}

/** The command line that runs the rsync daemon for a backend. Pure. */
export const daemonCommand = (opts: DaemonCommandOptions): string[] => {
  const drop = opts.asOwner === undefined
    ? []
    : ['setpriv', `--reuid=${opts.asOwner.uid}`, `--regid=${opts.asOwner.gid}`, '--clear-groups',
        '--inh-caps=+net_bind_service,+sys_chroot', '--ambient-caps=+net_bind_service,+sys_chroot', '--']
  const wrap = opts.backend === 'fakeroot' ? ['fakeroot', '-i', opts.fakerootState, '--'] : []
  // --dparam: as if written at the end of the config's global part
  const params = [...opts.logFile === undefined ? [] : [`--dparam=log file=${opts.logFile}`],
    ...opts.noChroot === true ? ['--dparam=use chroot=no'] : []]
  return [...drop, ...wrap, 'rsync', ...opts.rsyncArgs, ...params]
}
