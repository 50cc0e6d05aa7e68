// A build's life after publishing, against a live `xs-rsync serve` and a real
// store: `remove` (a laptop still pulling keeps its tree until it is done,
// replay protection stays, --forget drops it), the two ways a build went
// wrongly before (a tarball deleted by hand, then refresh; a build published by
// hand from outside xobuilds-packed, then refresh) and `prune`.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { ERROR_TABLE } from '@xs-rsync/core'
import { listBuilds, publishLayout, readBuildRecord, treesInUse } from '@xs-rsync/publisher'
import { listModules } from './lib/pull-build.js'
import { startServe } from './lib/start-serve.js'
import { addPackedBuild, testStore } from './lib/test-store.js'
import { tinyOsTar } from './lib/tiny-os-tar.js'
import { xsRsync } from './lib/xs-cli.js'

const tinyTar = (dir: string, name: string, issue: string, big = 0): string =>
  tinyOsTar(join(dir, `${name}.tar`), issue, big > 0 ? [{ name: 'big', data: Buffer.alloc(big, 7), mode: 0o644 }] : [])

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

t.test('remove: unpublished at once, files deleted, the tree kept while a laptop pulls it, replay protection kept', async (t) => {
  const dir = t.testdir({})
  const config = testStore(dir)
  const layout = publishLayout(config.root)
  const b1 = addPackedBuild(config, 'os1', 'b1', tinyTar(dir, 'a1', 'one\n', 4 * 1024 * 1024), 'xz')
  addPackedBuild(config, 'os2', 'b2', tinyTar(dir, 'a2', 'two\n'), 'bzip2')
  let r = xsRsync(config, ['refresh'])
  t.equal(r.status, 0, r.stderr)
  const tree = (await readBuildRecord(layout.records, 'b1'))!.tree
  const served = await startServe({ config })
  t.teardown(served.stop)

  // a laptop's pull of b1 held open: with --files-from=- the daemon, chrooted into
  // b1's tree, waits for the list of files until the client's stdin gives it
  const dest = join(dir, 'held')
  const held = spawn('rsync', ['-a', '--timeout=120', '--files-from=-', `rsync://127.0.0.1:${served.port}/build-b1/root/`, `${dest}/`],
    { stdio: ['pipe', 'ignore', 'pipe'] })
  let heldErr = ''
  held.stderr.on('data', (d: Buffer) => { heldErr += d.toString() })
  const heldDone = new Promise<number | null>((resolve) => held.on('close', resolve))
  t.teardown(() => { held.kill('SIGKILL') })
  for (let i = 0; i < 200 && !(await treesInUse(layout.trees)).has(tree); i++) await sleep(50)
  t.ok((await treesInUse(layout.trees)).has(tree), 'the pull is in progress')

  r = xsRsync(config, ['remove', 'b1'])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stderr, /DONE: removed build b1 and its 4 files in xobuilds-packed; still being pulled, removed by the next job: b1@\S+; builds available to laptops: b2 \(rsync:\/\/[^/]+\/build-b2\)/)
  t.same(listModules(served.port), ['build-b2'], 'the daemon no longer offers b1')
  t.notOk(readFileSync(config.rsyncdConf, 'utf8').includes('[build-b1]'))
  t.same(readdirSync(layout.packed).filter((f) => f.startsWith('os1')), [], 'its files in xobuilds-packed are gone')
  t.same((await listBuilds(config)).map((b) => b.name), ['b2'])
  t.ok(existsSync(join(layout.trees, tree)), 'the tree stays while it is pulled')
  t.ok(existsSync(join(config.root, 'state', 'removed', 'b1.json')), 'replay protection is kept')
  held.stdin.end('etc/issue\nbig\n')
  t.equal(await heldDone, 0, `the laptop's pull finished: ${heldErr}`)
  t.equal(readFileSync(join(dest, 'etc', 'issue'), 'utf8'), 'one\n')
  t.equal(readFileSync(join(dest, 'big')).length, 4 * 1024 * 1024)

  r = xsRsync(config, ['refresh'])
  t.equal(r.status, 0, r.stderr)
  t.notOk(existsSync(join(layout.trees, tree)), 'the next job removes the tree no one pulls')
  t.same((await listBuilds(config)).map((b) => b.name), ['b2'], 'refresh does not bring b1 back')

  const before = readFileSync(config.rsyncdConf, 'utf8')
  r = xsRsync(config, ['remove', 'b2', 'nope'])
  t.equal(r.status, ERROR_TABLE.E_NO_BUILD.exit, r.stderr)
  t.match(r.stderr, 'FAILED: no such build: there is no published build nope; the published builds are b2. Check the name: "xs-rsync list" shows the published builds.')
  t.notMatch(r.stderr, /plug the stick|file or device/, 'advice for a build name, not for a file')
  t.equal(readFileSync(config.rsyncdConf, 'utf8'), before, 'nothing changed: every NAME is checked first')
  t.same((await listBuilds(config)).map((b) => b.name), ['b2'])

  r = xsRsync(config, ['remove', '--forget', 'b1'])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stderr, /DONE: forgot b1/)
  t.notOk(existsSync(join(config.root, 'state', 'removed', 'b1.json')))
  r = xsRsync(config, ['remove', '--forget', 'b1'])
  t.equal(r.status, ERROR_TABLE.E_NO_BUILD.exit, 'nothing is left to forget')
  t.match(r.stderr, /FAILED: no such build: there is no published build b1 and nothing kept of a removed one; the published builds are b2\. /)

  const empty = testStore(join(dir, 'empty'))
  r = xsRsync(empty, ['remove', 'b2'])
  t.equal(r.status, ERROR_TABLE.E_NO_BUILD.exit)
  t.match(r.stderr, /FAILED: no such build: there is no published build b2; no builds are published\. Check the name/)
})

t.test('Seen: the tarball deleted by hand, then refresh: the build is removed, nothing is stranded', async (t) => {
  const dir = t.testdir({})
  const config = testStore(dir)
  const layout = publishLayout(config.root)
  const b3 = addPackedBuild(config, 'os3', 'b3', tinyTar(dir, 'a3', 'three\n'), 'bzip2')
  addPackedBuild(config, 'os4', 'b4', tinyTar(dir, 'a4', 'four\n'), 'bzip2')
  t.equal(xsRsync(config, ['refresh']).status, 0)
  const tree = (await readBuildRecord(layout.records, 'b3'))!.tree
  rmSync(b3.tarball)
  const r = xsRsync(config, ['refresh'])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stderr, /the tarball is gone, so this build is not published; os3\.contents, os3\.name are left over/)
  t.match(r.stderr, /DONE: removed b3; unchanged b4; builds available to laptops: b4 /)
  t.same((await listBuilds(config)).map((b) => b.name), ['b4'])
  t.notOk(existsSync(join(layout.trees, tree)), 'its tree is gone')
  t.notOk(readFileSync(config.rsyncdConf, 'utf8').includes('[build-b3]'))
})

t.test('Seen: a build published by hand from outside xobuilds-packed stays published until removed', async (t) => {
  const dir = t.testdir({})
  const config = testStore(dir)
  const outside = testStore(join(dir, 'elsewhere'))
  const f = addPackedBuild(outside, 'os5', 'b5', tinyTar(dir, 'a5', 'five\n'), 'xz')
  let r = xsRsync(config, ['publish', f.tarball, 'hand'])
  t.equal(r.status, 0, r.stderr)
  t.equal((await readBuildRecord(publishLayout(config.root).records, 'hand'))?.source, f.tarball, 'the record says where it came from')
  r = xsRsync(config, ['refresh'])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stderr, /Build hand was published by hand from \S+os5-tree\.tar\.xz; it stays published \("xs-rsync remove hand" removes it\)/)
  t.same((await listBuilds(config)).map((b) => b.name), ['hand'])
  const tree = (await listBuilds(config))[0]!.tree
  r = xsRsync(config, ['refresh', '--force'])
  t.equal(r.status, 0, r.stderr)
  t.not((await listBuilds(config))[0]?.tree, tree, '--force unpacks it again, from its source')
  t.equal((await listBuilds(config))[0]?.source, f.tarball)
  r = xsRsync(config, ['remove', 'hand'])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stderr, /published by hand from \S+; that file is left where it is/)
  t.ok(existsSync(f.tarball), 'the files outside the store are not ours to delete')
  t.same(await listBuilds(config), [])
})

t.test('prune: dry run by default, oldest first, never the newest of a series', async (t) => {
  const dir = t.testdir({})
  const config = testStore(dir)
  for (const n of ['p1', 'p2', 'p3']) {
    addPackedBuild(config, `os-${n}`, n, tinyTar(dir, n, `${n}\n`), 'bzip2')
    t.equal(xsRsync(config, ['refresh', '-q']).status, 0)
  }
  addPackedBuild(config, 'os-q', 'q', tinyTar(dir, 'q', 'q\n'), 'bzip2')
  t.equal(xsRsync(config, ['refresh', '-q']).status, 0)
  const names = async (): Promise<string[]> => (await listBuilds(config)).map((b) => b.name)

  let r = xsRsync(config, ['prune', '--keep', '1'])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /Would remove \(oldest first\):\n {2}p1 .*\n {2}p2 /)
  t.match(r.stdout, /Keeping:\n {2}p3 {2}\(newest of its series: never pruned\)\n {2}q {2}\(newest of its series/)
  t.match(r.stdout, /1 more than --keep asks for are kept/)
  t.match(r.stdout, /Nothing was changed\. Run again with --yes to remove them\./)
  t.same(await names(), ['p1', 'p2', 'p3', 'q'], 'a dry run changes nothing')

  r = xsRsync(config, ['prune', '--free', '1000T'])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /Even so, about .* more would be needed for --free\./)

  r = xsRsync(config, ['prune', '--keep', '1', '--yes'])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stderr, /DONE: removed build p1 and its 4 files in xobuilds-packed; removed build p2 and its 4 files in xobuilds-packed; builds available to laptops: p3, q \(/)
  t.same(await names(), ['p3', 'q'])
  t.same(readdirSync(join(config.root, 'xobuilds-packed')).filter((f) => /os-p[12]/.test(f)), [])

  t.equal(xsRsync(config, ['prune']).status, 2, 'prune needs a goal')
  t.equal(xsRsync(config, ['prune', '--keep', 'x']).status, 2)
  t.equal(xsRsync(config, ['prune', '--free', 'lots']).status, 2)
})
