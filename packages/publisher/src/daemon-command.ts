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
   * needs nothing but reading the store and binding the port.
   */
  asOwner?: { uid: number, gid: number }
}

/** The command line that runs the rsync daemon for a backend. Pure. */
export const daemonCommand = (opts: DaemonCommandOptions): string[] => {
  const drop = opts.asOwner === undefined
    ? []
    : ['setpriv', `--reuid=${opts.asOwner.uid}`, `--regid=${opts.asOwner.gid}`, '--clear-groups',
        '--inh-caps=+net_bind_service', '--ambient-caps=+net_bind_service', '--']
  const wrap = opts.backend === 'fakeroot' ? ['fakeroot', '-i', opts.fakerootState, '--'] : []
  return [...drop, ...wrap, 'rsync', ...opts.rsyncArgs]
}
