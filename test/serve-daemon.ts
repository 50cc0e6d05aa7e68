// xs-rsync serve: refuses to start on a missing config, a busy port or a bad fakeroot
// state; under fakeroot it restarts the daemon when refresh rewrites the state, so a
// build published while serving reaches clients with its owners; SIGTERM stops it all.
import t from 'tap'
import { lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { ERROR_TABLE } from '@xs-rsync/core'
import { publishLayout } from '@xs-rsync/publisher'
import { rawTar } from '../packages/publisher/test/lib/make-archive.js'
import { archiveEntries } from './lib/archive-entries.js'
import { dumpTree } from './lib/dump-tree.js'
import { freePort, waitForRsyncd } from './lib/free-port.js'
import { listModules, pullBuild } from './lib/pull-build.js'
import { startServe } from './lib/start-serve.js'
import { addPackedBuild, testStore } from './lib/test-store.js'
import { compareTrees } from './lib/tree-entry.js'
import { xsRsync } from './lib/xs-cli.js'

const dir = t.testdir({ tars: {} })
let n = 0
const devTar = (issue: string): string => {
  const file = join(dir, 'tars', `t${n++}.tar`)
  writeFileSync(file, rawTar([
    { name: './', type: '5', mode: 0o755 },
    { name: 'dev/', type: '5', mode: 0o755 },
    { name: 'dev/console', type: '3', mode: 0o600 },
    { name: 'etc/', type: '5', mode: 0o755 },
    { name: 'etc/issue', data: Buffer.from(issue), mode: 0o644 },
    { name: 'bin/', type: '5', mode: 0o755 },
    { name: 'bin/ping', data: Buffer.from('ping\n'), mode: 0o4711 },
  ]))
  return file
}

t.test('refuses to start without a config', async (t) => {
  const config = testStore(join(dir, 'noconf'))
  const r = xsRsync(config, ['serve', '--port', String(await freePort())], 30_000)
  t.equal(r.status, 17)
  t.match(r.stderr, /FAILED: rsync daemon problem: no rsync config at .*: run "xs-rsync refresh" first/)
})

t.test('refuses a busy port', async (t) => {
  const config = testStore(join(dir, 'busy'))
  t.equal(xsRsync(config, ['refresh']).status, 0)
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { s.close() })
  const port = (s.address() as { port: number }).port
  const r = xsRsync(config, ['serve', '--port', String(port)], 30_000)
  t.equal(r.status, ERROR_TABLE.E_PORT_IN_USE.exit, r.stderr)
  t.match(r.stderr, /FAILED: the port is in use: cannot listen on 127\.0\.0\.1:\d+: another program listens on that port\. Another program/)
  t.notMatch(r.stderr, /Check that rsync is installed/, 'no advice about rsync or its config')
})

t.test('fakeroot: a missing, malformed or stale state is refused', async (t) => {
  const config = testStore(join(dir, 'state'), 'fakeroot')
  addPackedBuild(config, 'os1', 'b1', devTar('one\n'), 'xz')
  t.equal(xsRsync(config, ['refresh']).status, 0)
  const { fakerootState: state, trees } = publishLayout(config.root)
  const port = String(await freePort())
  const good = readFileSync(state, 'utf8')
  // stale: without the lines of the build's version folder and its root/ (by device and inode:
  // the lines are not in path order, so "the first lines" are not always theirs)
  const versions = readdirSync(trees).filter((n) => n.startsWith('b1@'))
  t.equal(versions.length, 1, 'one version tree of b1')
  const version = join(trees, versions[0] ?? '')
  const treeKeys = [version, join(version, 'root')].map((p) => {
    const st = lstatSync(p, { bigint: true })
    return `dev=${st.dev.toString(16)},ino=${st.ino},`
  })
  const stale = good.split('\n').filter((l) => !treeKeys.some((k) => l.startsWith(k))).join('\n')
  t.equal(good.split('\n').length - stale.split('\n').length, 2, 'the two lines are found and left out')
  const cases: [string, string | undefined, RegExp][] = [
    ['missing', undefined, /cannot read the fakeroot state/],
    ['malformed line', good + 'dev=1,ino=2,mode=100644\n', /fakeroot\.state:\d+: not a fakeroot state line/],
    ['stale (tree not in it)', stale, /does not describe .*refresh --force/],
  ]
  for (const [what, text, msg] of cases) {
    if (text === undefined) rmSync(state)
    else writeFileSync(state, text)
    const r = xsRsync(config, ['serve', '--port', port], 30_000)
    t.equal(r.status, 16, `${what}: E_OWNERSHIP`)
    t.match(r.stderr, msg, what)
  }
})

t.test('fakeroot: a build published while serving gets its owners (daemon restarted)', async (t) => {
  const config = testStore(join(dir, 'restart'), 'fakeroot')
  const first = addPackedBuild(config, 'os1', 'b1', devTar('one\n'), 'xz')
  t.equal(xsRsync(config, ['refresh']).status, 0)
  const served = await startServe({ config })
  t.teardown(served.stop)
  const pullCompare = async (name: string, tarball: string, dest: string): Promise<string[]> => {
    const r = pullBuild(served.port, `build-${name}/root`, dest, `${dest}.state`)
    return r.status === 0 ? compareTrees(await archiveEntries(tarball), dumpTree(dest, `${dest}.state`)) : [`pull: ${r.status} ${r.stderr}`]
  }
  t.same(await pullCompare('b1', first.tarball, join(dir, 'r1')), [])
  // an unchanged refresh leaves the state file alone, so transfers are not cut
  t.equal(xsRsync(config, ['refresh']).status, 0)
  await new Promise((r) => setTimeout(r, 2500))
  t.notMatch(served.output(), /restarting/, 'no restart after an unchanged refresh')
  const second = addPackedBuild(config, 'os2', 'b2', devTar('two\n'), 'bzip2')
  t.equal(xsRsync(config, ['refresh']).status, 0)
  // bounded: the daemon notices the new state within a few seconds
  let diffs: string[] = ['not tried']
  for (let i = 0; i < 40 && diffs.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 500))
    if (!/restarting the rsync daemon/.test(served.output())) continue
    await waitForRsyncd(served.port, 10_000)
    diffs = await pullCompare('b2', second.tarball, join(dir, `r2-${i}`))
  }
  t.same(diffs, [], 'new build served with its owners, devices and setuid bit')
  t.match(served.output(), /Ownership data changed \(builds were published\); restarting the rsync daemon/)
  t.same(listModules(served.port), ['build-b1', 'build-b2'])
  t.equal(await served.stop(), 0, 'serve exits 0 on SIGTERM')
  // systemd stops a service with SIGTERM: that is news for the log, not a warning (a job's is)
  t.match(served.output(), /^xs-rsync: received SIGTERM, stopping$/m, 'the stop is logged')
  t.notMatch(served.output(), /warning: received SIGTERM/, 'not as a warning')
  const gone = await waitForRsyncd(served.port, 1_000).then(() => false, () => true)
  t.ok(gone, 'the daemon (and its process group) stopped with it')
})
