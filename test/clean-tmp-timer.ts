// xs-rsync-clean-tmp.service, run as installed (its ExecStart= rendered for a
// test store, executed as systemd would: no shell): staging untouched for a
// day goes, recent staging stays, and nothing is touched while a job holds
// the store lock. The timer fires daily and catches up after downtime.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { execStartOf, renderUnit } from '../packages/xs-rsync/src/setup/render-unit.js'

const UNITS = join(import.meta.dirname, '..', 'systemd')

const installed = (root: string): string[] => execStartOf(renderUnit('xs-rsync-clean-tmp.service',
  readFileSync(join(UNITS, 'xs-rsync-clean-tmp.service'), 'utf8'),
  { bin: '/usr/bin/xs-rsync', root, rsyncdConf: '/etc/xs-rsync/rsyncd.conf', backend: 'fake-super' }))

const staging = (root: string): { old: string, fresh: string, oldFile: string } => {
  const tmp = join(root, 'tmp')
  const old = join(tmp, 'publish.123.AbCdEf')
  const fresh = join(tmp, 'ingest.456.GhIjKl')
  const oldFile = join(tmp, 'stray-file')
  for (const d of [join(old, 'build', 'root', 'etc'), fresh, join(root, 'state')]) mkdirSync(d, { recursive: true })
  writeFileSync(join(old, 'build', 'root', 'etc', 'x'), 'x')
  writeFileSync(join(fresh, 'part'), 'y')
  writeFileSync(oldFile, 'z')
  writeFileSync(join(root, 'state', 'xs-rsync.lock'), '')
  const twoDaysAgo = new Date(Date.now() - 2 * 86400_000)
  for (const p of [old, oldFile]) utimesSync(p, twoDaysAgo, twoDaysAgo)
  return { old, fresh, oldFile }
}

t.test('removes what is a day old, keeps the rest, logs each path', async (t) => {
  const root = join(t.testdir({}), 'store')
  const s = staging(root)
  const [cmd, ...args] = installed(root)
  const r = spawnSync(cmd!, args, { encoding: 'utf8', timeout: 30_000 })
  t.equal(r.status, 0, r.stderr)
  t.notOk(existsSync(s.old), 'old staging removed')
  t.notOk(existsSync(s.oldFile), 'old stray file removed')
  t.ok(existsSync(join(s.fresh, 'part')), 'recent staging kept')
  t.ok(existsSync(join(root, 'state', 'xs-rsync.lock')), 'outside tmp: untouched')
  t.same(r.stdout.trim().split('\n').sort(), [s.old, s.oldFile].sort(), 'one log line per removed path')
})

t.test('does nothing, successfully, while a job holds the store lock', async (t) => {
  const root = join(t.testdir({}), 'store')
  const s = staging(root)
  // a job holding the lock: flock(1) keeps it while `sleep` runs
  const holder = spawn('flock', [join(root, 'state', 'xs-rsync.lock'), 'sleep', '30'], { stdio: 'ignore' })
  t.teardown(() => { holder.kill() })
  const until = Date.now() + 10_000
  while (spawnSync('flock', ['-n', join(root, 'state', 'xs-rsync.lock'), 'true']).status === 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50))
  }
  const [cmd, ...args] = installed(root)
  const r = spawnSync(cmd!, args, { encoding: 'utf8', timeout: 30_000 })
  t.equal(r.status, 0, 'a busy store is not a failure')
  t.ok(existsSync(s.old), 'nothing removed while the lock is held')
})

t.test('the timer: daily, persistent, enabled by setup', async (t) => {
  const timer = readFileSync(join(UNITS, 'xs-rsync-clean-tmp.timer'), 'utf8')
  t.match(timer, /^OnCalendar=daily$/m)
  t.match(timer, /^Persistent=true$/m)
  t.match(timer, /^WantedBy=timers\.target$/m)
})
