// `xs-rsync setup` on the running system (no --prefix), for real but
// contained: in a private mount namespace, /etc is an overlay (useradd
// writes its passwd/group/shadow there) and /library and /usr/share/doc are
// scratch folders, so the machine running the test is left as it was.
// Checks what only the host path does: the system user, the store handed to
// it, the rsync config generated with that uid, units enabled, idempotence.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmdirSync } from 'node:fs'
import { join } from 'node:path'
import { XS_BIN } from './lib/xs-cli.js'

if (process.getuid?.() !== 0) {
  t.plan(0, 'needs root (mount namespaces, overlayfs)')
} else {
  t.test('setup as root on the host: user, owners, config, enable; then nothing to do', async (t) => {
    const dir = t.testdir({})
    // the mount points themselves are made on the host when missing: removed again (empty)
    for (const p of ['/library', '/usr/share/doc/xs-rsync'].filter((p) => !existsSync(p))) {
      t.teardown(() => { try { rmdirSync(p) } catch { /* not empty or gone: leave it */ } })
    }
    for (const d of ['etc-up', 'etc-work', 'library', 'doc']) mkdirSync(join(dir, d))
    const script = `
set -e
mount --make-rprivate /
mount -t overlay overlay -o lowerdir=/etc,upperdir=${dir}/etc-up,workdir=${dir}/etc-work /etc
mkdir -p /library /usr/share/doc/xs-rsync
mount --bind ${dir}/library /library
mount --bind ${dir}/doc /usr/share/doc/xs-rsync
"${process.execPath}" "${XS_BIN}" setup --quiet
echo "user=$(getent passwd xs-rsync | cut -d: -f3,4,7)"
echo "store=$(stat -c %u:%g /library/xs-rsync /library/xs-rsync/tmp /library/xs-rsync/state/rsyncd.lock | tr '\\n' ' ')"
echo "conf-uid=$(sed -n 's/^uid = //p' /etc/xs-rsync/rsyncd.conf)"
echo "socket=$(readlink /etc/systemd/system/sockets.target.wants/xs-rsyncd.socket)"
echo "timer=$(readlink /etc/systemd/system/timers.target.wants/xs-rsync-clean-tmp.timer)"
"${process.execPath}" "${XS_BIN}" setup 2>&1 | tail -1
echo "again=$("${process.execPath}" "${XS_BIN}" setup --dry-run | grep -c '^do ' || true)"
`
    const r = spawnSync('unshare', ['-m', 'sh', '-c', script], { encoding: 'utf8', timeout: 120_000 })
    t.equal(r.status, 0, r.stderr)
    const v = Object.fromEntries(r.stdout.split('\n').filter((l) => /^[a-z-]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
    const [uid, gid, shell] = (v.user ?? '').split(':')
    t.ok(Number(uid) > 0 && Number(uid) < 1000, `a system user: ${v.user}`)
    t.equal(shell, '/usr/sbin/nologin')
    t.equal(v.store?.trim(), [1, 2, 3].map(() => `${uid}:${gid}`).join(' '), 'store, staging and lock file belong to it')
    t.equal(v['conf-uid'], uid, 'the rsync daemon runs as the store owner')
    t.equal(v.socket, '/etc/systemd/system/xs-rsyncd.socket')
    t.equal(v.timer, '/etc/systemd/system/xs-rsync-clean-tmp.timer')
    t.match(r.stdout, /setup: everything was already in place/)
    t.equal(v.again, '0', 'dry run after setup: nothing to do')
  })
}
