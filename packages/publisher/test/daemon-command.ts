import t from 'tap'
import { daemonCommand } from '../src/daemon-command.js'

t.test('daemon command lines', async (t) => {
  const rsyncArgs = ['--daemon', '--no-detach', '--config=/c']
  const cases: [Parameters<typeof daemonCommand>[0], string[]][] = [
    [{ backend: 'fake-super', fakerootState: '/s', rsyncArgs }, ['rsync', ...rsyncArgs]],
    [{ backend: 'fakeroot', fakerootState: '/s', rsyncArgs }, ['fakeroot', '-i', '/s', '--', 'rsync', ...rsyncArgs]],
    [{ backend: 'fake-super', fakerootState: '/s', rsyncArgs, asOwner: { uid: 999, gid: 998 } },
      ['setpriv', '--reuid=999', '--regid=998', '--clear-groups', '--inh-caps=+net_bind_service', '--ambient-caps=+net_bind_service', '--', 'rsync', ...rsyncArgs]],
    [{ backend: 'fakeroot', fakerootState: '/s', rsyncArgs, asOwner: { uid: 999, gid: 998 } },
      ['setpriv', '--reuid=999', '--regid=998', '--clear-groups', '--inh-caps=+net_bind_service', '--ambient-caps=+net_bind_service', '--', 'fakeroot', '-i', '/s', '--', 'rsync', ...rsyncArgs]],
  ]
  for (const [opts, want] of cases) t.same(daemonCommand(opts), want, JSON.stringify(opts))
})
