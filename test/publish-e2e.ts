// End to end: builds made by the real bzip2, pbzip2, lbzip2, xz and lzma with every
// entry type are refreshed into the store by the CLI, served by `xs-rsync serve`
// on 127.0.0.1 and pulled by the real rsync client under fakeroot; every entry
// the client got is compared with the archive itself, for both backends.
import t from 'tap'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeTreeTar, type Compressor } from '../packages/publisher/test/lib/make-archive.js'
import { archiveEntries } from './lib/archive-entries.js'
import { dumpTree } from './lib/dump-tree.js'
import { listModules, pullBuild } from './lib/pull-build.js'
import { startServe } from './lib/start-serve.js'
import { addPackedBuild, testStore } from './lib/test-store.js'
import { compareTrees } from './lib/tree-entry.js'
import { xsRsync } from './lib/xs-cli.js'

const work = t.testdir({ trees: {} })
const { gnu: osTar, posix: paxTar } = makeTreeTar(join(work, 'trees'), 'os')
const { gnu: pristineTar } = makeTreeTar(join(work, 'trees'), 'pristine')

const BUILDS: [string, string, Compressor][] = [
  ['os-bzip2', osTar, 'bzip2'],
  ['os-pbzip2', osTar, 'pbzip2'],
  ['os-lbzip2', paxTar, 'lbzip2'],
  ['os-xz', paxTar, 'xz'],
  ['os-lzma', osTar, 'lzma'],
  ['pristine', pristineTar, 'xz'],
]

for (const backend of ['fake-super', 'fakeroot'] as const) {
  t.test(`${backend}: every entry reaches the client as the archive says`, async (t) => {
    const dir = join(work, backend)
    mkdirSync(dir)
    const config = testStore(dir, backend)
    const files = new Map(BUILDS.map(([name, tarFile, how]) => [name, addPackedBuild(config, `b-${name}`, name, tarFile, how)]))
    const r = xsRsync(config, ['refresh'])
    t.equal(r.status, 0, `refresh: ${r.stderr}`)
    const served = await startServe({ config })
    t.teardown(served.stop)
    t.same(listModules(served.port).sort(), BUILDS.map(([n]) => `build-${n}`).sort(), 'one module per build, no module over all of them')
    for (const [name, { tarball, contentsFile }] of files) {
      const dest = join(dir, `client-${name}`)
      const state = `${dest}.state`
      const pull = pullBuild(served.port, `build-${name}`, dest, state)
      t.equal(pull.status, 0, `pull build-${name}: ${pull.stderr}`)
      const got = dumpTree(dest, state)
      const diffs = compareTrees(await archiveEntries(tarball), new Map([...got].filter(([p]) => p.startsWith('root/') || p === 'root')
        .map(([p, e]) => [p === 'root' ? '' : p.slice(5), e])))
      t.same(diffs, [], `${name}: client tree equals the archive`)
      const contents = got.get('contents')
      t.match(contents, { type: 'file', perm: 0o644, uid: 0, gid: 0 }, `${name}: contents served as root 0644`)
      t.equal(readFileSync(join(dest, 'contents'), 'utf8'), readFileSync(contentsFile, 'utf8'), `${name}: contents unchanged`)
      t.match(got.get(''), { type: 'directory', perm: 0o755, uid: 0, gid: 0 })
    }
    // no module serves pub/builds itself: a recursive pull of it gave symlinks into the hidden version trees
    t.equal(pullBuild(served.port, 'builds', join(dir, 'no-builds'), join(dir, 'no-builds.state')).status, 5, 'there is no [builds] module')
  })
}
