// The store side never needs root: refresh and serve run as nobody (setpriv) on a
// store nobody owns, for both backends, and a root client still gets root-owned,
// setuid and device entries exactly as the archive says.
import t, { type Test } from 'tap'
import type { XsConfig } from '@xs-rsync/core'
import { spawnSync } from 'node:child_process'
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rawTar } from '../packages/publisher/test/lib/make-archive.js'
import { archiveEntries } from './lib/archive-entries.js'
import { dumpTree } from './lib/dump-tree.js'
import { pullBuild } from './lib/pull-build.js'
import { startServe } from './lib/start-serve.js'
import { addPackedBuild, testStore } from './lib/test-store.js'
import { compareTrees } from './lib/tree-entry.js'
import { configArgs, XS_BIN } from './lib/xs-cli.js'

const NOBODY = 65534
const asNobody = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, XS_BIN]

/** `xs-rsync serve` started by `command`, a root rsync client pulls build b1: exactly the archive; serve stops cleanly. */
const serveAndCompare = async (t: Test, command: string[], config: XsConfig, dir: string, tarball: string): Promise<void> => {
  // 60 s: under a loaded CI (two test files at once) 20 s was once not enough
  const served = await startServe({ config, command, timeoutMs: 60_000 })
  t.teardown(served.stop)
  const dest = join(dir, 'client')
  const pull = pullBuild(served.port, 'build-b1/root', dest, `${dest}.state`)
  t.equal(pull.status, 0, pull.stderr + served.output())
  t.same(compareTrees(await archiveEntries(tarball), dumpTree(dest, `${dest}.state`)), [])
  t.equal(await served.stop(), 0, served.output())
}

/** A temp dir owned by nobody (outside the tap fixtures, which nobody cannot reach), removed after the test. */
const nobodyDir = (t: Test, prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  chownSync(dir, NOBODY, NOBODY)
  return dir
}

const chownTree = (p: string): void => {
  spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, p])
}

for (const backend of ['fake-super', 'fakeroot'] as const) {
  t.test(`${backend}: refresh and serve as nobody`, async (t) => {
    const dir = nobodyDir(t, 'xs-rsync-nobody-')
    const config = testStore(dir, backend)
    const tarFile = join(dir, 'a.tar')
    writeFileSync(tarFile, rawTar([
      { name: './', type: '5', mode: 0o755 },
      { name: 'bin/', type: '5', mode: 0o755 },
      { name: 'bin/su', data: Buffer.from('su\n'), mode: 0o4755 },
      { name: 'dev/', type: '5', mode: 0o755 },
      { name: 'dev/null', type: '3', mode: 0o666 },
      { name: 'etc/', type: '5', mode: 0o555 },
      { name: 'etc/shadow', data: Buffer.from('root:*:1::::::\n'), mode: 0o000 },
    ]))
    const { tarball } = addPackedBuild(config, 'os1', 'b1', tarFile, 'xz')
    chownTree(dir)
    const r = spawnSync(asNobody[0]!, [...asNobody.slice(1), 'refresh', ...configArgs(config), '--no-syslog'], { encoding: 'utf8', timeout: 120_000 })
    t.equal(r.status, 0, r.stderr)
    await serveAndCompare(t, asNobody, config, dir, tarball)
  })
}

// The stick job runs as root (it mounts) on a store the service user owns (setup hands it over):
// what it writes must end up the owner's, or a daemon serving as the owner cannot read it.
t.test('a root job on a store owned by nobody leaves nothing root-owned; a root-started daemon serves it', async (t) => {
  const dir = nobodyDir(t, 'xs-rsync-rootjob-')
  const config = testStore(dir, 'fake-super')
  const tarFile = join(dir, 'a.tar')
  writeFileSync(tarFile, rawTar([
    { name: './', type: '5', mode: 0o755 },
    { name: 'etc/', type: '5', mode: 0o555 },
    { name: 'etc/shadow', data: Buffer.from('root:*:1::::::\n'), mode: 0o000 },
    { name: 'bin/', type: '5', mode: 0o755 },
    { name: 'bin/su', data: Buffer.from('su\n'), mode: 0o4755 },
  ]))
  const { tarball } = addPackedBuild(config, 'os1', 'b1', tarFile, 'xz')
  chownTree(config.root)
  const r = spawnSync(process.execPath, [XS_BIN, 'refresh', ...configArgs(config), '--no-syslog'], { encoding: 'utf8', timeout: 120_000 })
  t.equal(r.status, 0, r.stderr)
  const rootOwned = spawnSync('find', [config.root, '-uid', '0'], { encoding: 'utf8' }).stdout.trim()
  t.equal(rootOwned, '', 'nothing under the store is root-owned')
  await serveAndCompare(t, [process.execPath, XS_BIN], config, dir, tarball)
})
