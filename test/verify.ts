// `xs-rsync verify`: a freshly published tree is exactly its archive (both
// backends, the os tree with devices, setuid files, hardlinks, symlinks and
// odd names); every kind of change made on disk afterwards is found and
// listed, with exit status 19 (E_TREE_DIFFERS), without the stick. And its
// memory does not grow with the build: 60,000 entries under a 48 MB heap.
// Times are compared to the nanosecond (GNU tar --format=posix keeps them).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { appendFileSync, chmodSync, copyFileSync, mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Backend } from '@xs-rsync/core'
import { listBuilds, publishLayout } from '@xs-rsync/publisher'
import { makeTreeTar } from '../packages/publisher/test/lib/make-archive.js'
import { addPackedBuild, testStore } from './lib/test-store.js'
import { XS_BIN, configArgs, xsRsync } from './lib/xs-cli.js'

for (const backend of ['fake-super', 'fakeroot'] as Backend[]) {
  t.test(`${backend}: an untouched tree verifies; each change on disk is found`, async (t) => {
    const dir = t.testdir({})
    const config = testStore(dir, backend)
    addPackedBuild(config, 'os44', '44', makeTreeTar(dir, 'os').gnu, 'xz')
    mkdirSync(join(dir, 'p'))
    addPackedBuild(config, 'os45', '45', makeTreeTar(join(dir, 'p'), 'pristine').gnu, 'bzip2')
    let r = xsRsync(config, ['refresh'])
    t.equal(r.status, 0, r.stderr)
    r = xsRsync(config, ['verify'])
    t.equal(r.status, 0, r.stdout + r.stderr)
    t.equal(r.stdout, '', 'no differences listed')
    t.match(r.stderr, /DONE: 44, 45: the served files are exactly what their archives say/)

    const tree = join(publishLayout(config.root).trees, (await listBuilds(config)).find((b) => b.name === '44')!.tree, 'root')
    appendFileSync(join(tree, 'bin', 'big'), 'x') // content (a failing disk, an edit)
    unlinkSync(join(tree, 'etc', 'hostname')) // missing
    writeFileSync(join(tree, 'etc', 'added'), 'by hand\n') // extra
    utimesSync(join(tree, 'ro', 'sub', 'file'), 1, 1) // time
    const c = join(tree, 'bin', 'c')
    copyFileSync(c, `${c}.new`); renameSync(`${c}.new`, c) // hardlink broken (same content)
    if (backend === 'fake-super') {
      spawnSync('setfattr', ['-n', 'user.rsync.%stat', '-v', '100755 0,0 0:0', join(tree, 'bin', 'su')]) // setuid bit dropped
      writeFileSync(join(tree, 'etc', 'rel-link'), '/etc/shadow') // symlink target
      utimesSync(join(tree, 'etc', 'rel-link'), new Date('2019-05-06T07:08:09Z'), new Date('2019-05-06T07:08:09Z'))
    } else {
      chmodSync(join(tree, 'etc'), 0o700) // not a served difference: the owner and mode live in the state
      unlinkSync(join(tree, 'etc', 'rel-link'))
      symlinkSync('/etc/shadow', join(tree, 'etc', 'rel-link'))
    }
    r = xsRsync(config, ['verify', '44'])
    t.equal(r.status, 19, r.stderr)
    t.match(r.stderr, /FAILED: a published build differs from its archive: \d+ difference\(s\) between the served files and the archives: 44 \(\d+\)/)
    const out = r.stdout
    t.match(out, /^44: "bin\/big" differs in time, content: expected f644 0:0 0,0 \d+\.\d{9} F 3000000:\w+, found f644 0:0 0,0 \d+\.\d{9} F 3000001:\w+$/m)
    t.match(out, /^44: "etc" differs in time: /m, 'a folder whose contents were changed')
    t.match(out, /^44: "etc\/hostname" is missing/m)
    t.match(out, /^44: "etc\/added" is not in the archive/m)
    t.match(out, /^44: "ro\/sub\/file" differs in time:/m)
    t.match(out, /^44: "bin\/c" is not a hardlink to bin\/[ab]: found a separate file$/m)
    t.match(out, /^44: "etc\/rel-link" differs in [a-z ,]*content: expected l777 /m)
    if (backend === 'fake-super') t.match(out, /^44: "bin\/su" differs in type and mode: expected f4755 0:0 0,0 .*, found f755 0:0 0,0/m)
    t.notMatch(out, /^45:/m, 'only the build asked for')
    t.equal(xsRsync(config, ['verify', '45']).status, 0, 'the other build is untouched')
    const nope = xsRsync(config, ['verify', 'nope'])
    t.equal(nope.status, 28, 'E_NO_BUILD')
    t.match(nope.stderr, 'FAILED: no such build: there is no published build nope; the published builds are 44, 45. Check the name: "xs-rsync list" shows the published builds.')
  })
}

for (const backend of ['fake-super', 'fakeroot'] as Backend[]) {
  t.test(`${backend}: nanosecond times verify, and a time one nanosecond off is found`, async (t) => {
    const dir = t.testdir({})
    const config = testStore(dir, backend)
    const src = join(dir, 'src')
    spawnSync('bash', ['-euc', `mkdir -p "$0/etc"; echo a > "$0/etc/file"; ln "$0/etc/file" "$0/etc/hard"; ln -s file "$0/etc/link"
      touch -d @1796607276.123456789 "$0/etc/file"; touch -h -d @-1.5 "$0/etc/link"; touch -d @1234567890.000000001 "$0/etc" "$0"`, src])
    const tar = join(dir, 'ns.tar')
    t.equal(spawnSync('tar', ['--format=posix', '-cf', tar, '-C', src, '.']).status, 0)
    addPackedBuild(config, 'ns', 'ns', tar, 'xz')
    let r = xsRsync(config, ['refresh'])
    t.equal(r.status, 0, r.stderr)
    r = xsRsync(config, ['verify'])
    t.equal(r.status, 0, r.stdout + r.stderr)
    const root = join(publishLayout(config.root).trees, (await listBuilds(config))[0]!.tree, 'root')
    spawnSync('touch', ['-d', '@1796607276.123456788', join(root, 'etc', 'file')])
    r = xsRsync(config, ['verify'])
    t.equal(r.status, 19, r.stderr)
    t.match(r.stdout, /^ns: "etc\/file" differs in time: expected f644 0:0 0,0 1796607276\.123456789 F 2:\w+, found f644 0:0 0,0 1796607276\.123456788 F /m)
    t.equal(r.stdout.trim().split('\n').length, 1, 'that name alone (its hardlink is compared by inode)')
  })
}

t.test('memory does not grow with the build: 60,000 entries verified under a 48 MB heap', async (t) => {
  const dir = t.testdir({})
  const config = testStore(dir)
  const src = join(dir, 'src')
  mkdirSync(src)
  spawnSync('sh', ['-c', 'cd "$0" && for d in $(seq 1 300); do mkdir d$d; (cd d$d && seq 1 199 | xargs touch); done', src])
  const tar = join(dir, 'many.tar')
  t.equal(spawnSync('tar', ['-cf', tar, '-C', src, '.']).status, 0)
  addPackedBuild(config, 'many', 'many', tar, 'xz')
  let r = xsRsync(config, ['refresh', '-q'])
  t.equal(r.status, 0, r.stderr)
  t.ok((await listBuilds(config))[0]!.entries > 60_000)
  rmSync(join(publishLayout(config.root).trees, (await listBuilds(config))[0]!.tree, 'root', 'd7', '9'))
  r = spawnSync(process.execPath, ['--max-old-space-size=48', XS_BIN, 'verify', ...configArgs(config), '--no-syslog'], { encoding: 'utf8', timeout: 600_000 })
  t.equal(r.status, 19, r.stderr.slice(-2000))
  const lines = r.stdout.trim().split('\n')
  t.equal(lines.length, 2, r.stdout)
  t.match(lines, [/^many: "d7" differs in time: /, /^many: "d7\/9" is missing \(the archive has f644 0:0 0,0 \d+\.\d{9} F 0:/], 'the file and its folder, nothing else')
})
