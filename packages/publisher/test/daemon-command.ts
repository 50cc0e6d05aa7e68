import t from 'tap'
import { daemonCommand } from '../src/daemon-command.js'

t.test('daemon command lines', async (t) => {
  const rsyncArgs = ['--daemon', '--no-detach', '--config=/c']
  const cases: [Parameters<typeof daemonCommand>[0], string[]][] = [
    [{ backend: 'fake-super', fakerootState: '/s', rsyncArgs }, ['rsync', ...rsyncArgs]],
    [{ backend: 'fakeroot', fakerootState: '/s', rsyncArgs }, ['fakeroot', '-i', '/s', '--', 'rsync', ...rsyncArgs]],
    [{ backend: 'fake-super', fakerootState: '/s', rsyncArgs, asOwner: { uid: 999, gid: 998 } },
      ['setpriv', '--reuid=999', '--regid=998', '--clear-groups', '--inh-caps=+net_bind_service,+sys_chroot', '--ambient-caps=+net_bind_service,+sys_chroot', '--', 'rsync', ...rsyncArgs]],
    [{ backend: 'fakeroot', fakerootState: '/s', rsyncArgs, asOwner: { uid: 999, gid: 998 } },
      ['setpriv', '--reuid=999', '--regid=998', '--clear-groups', '--inh-caps=+net_bind_service,+sys_chroot', '--ambient-caps=+net_bind_service,+sys_chroot', '--', 'fakeroot', '-i', '/s', '--', 'rsync', ...rsyncArgs]],
    [{ backend: 'fake-super', fakerootState: '/s', rsyncArgs, logFile: '/r/tmp/serve.1.x/log', noChroot: true },
      ['rsync', ...rsyncArgs, '--dparam=log file=/r/tmp/serve.1.x/log', '--dparam=use chroot=no']],
  ]
  for (const [opts, want] of cases) t.same(daemonCommand(opts), want, JSON.stringify(opts))
})
