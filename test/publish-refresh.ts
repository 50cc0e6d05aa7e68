// refresh against a live `xs-rsync serve`: new, changed, removed and forced builds, and
// each way a build can be bad (md5, hostile archive, NAME): nothing new is published,
// the previous version is still served (pulled again and compared), the rsync config
// is unchanged and the daemon still lists it, and no staging is left in ROOT/tmp.
import t from 'tap'
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { listBuilds, publishLayout, refresh } from '@xs-rsync/publisher'
import { archiveEntries } from './lib/archive-entries.js'
import { dumpTree } from './lib/dump-tree.js'
import { listModules, pullBuild } from './lib/pull-build.js'
import { startServe } from './lib/start-serve.js'
import { addPackedBuild, testStore } from './lib/test-store.js'
import { compareTrees } from './lib/tree-entry.js'
import { holdStoreLock } from './lib/hold-store-lock.js'
import { tinyOsTar } from './lib/tiny-os-tar.js'
import { configArgs, XS_BIN, xsRsync } from './lib/xs-cli.js'

const dir = t.testdir({ tars: {} })
const config = testStore(dir, 'fake-super')
const layout = publishLayout(config.root)
const packed = layout.packed

/** A small OS tree as a raw .tar file, its /etc/issue saying `issue`. */
const tinyTar = (name: string, issue: string, extra: Parameters<typeof tinyOsTar>[2] = []): string =>
  tinyOsTar(join(dir, 'tars', `${name}.tar`), issue, extra)

let pullN = 0
/** Pull build-NAME/root and compare it with `tarball`; [] when equal. */
const pullAndCompare = async (port: number, name: string, tarball: string): Promise<string[]> => {
  const dest = join(dir, `pull-${pullN++}`)
  const r = pullBuild(port, `build-${name}/root`, dest, `${dest}.state`)
  if (r.status !== 0) return [`pull failed ${r.status}: ${r.stderr}`]
  return compareTrees(await archiveEntries(tarball), dumpTree(dest, `${dest}.state`))
}

const snapshot = (): { conf: string, builds: string[], tmp: string[] } => ({
  conf: readFileSync(config.rsyncdConf, 'utf8'),
  builds: readdirSync(layout.builds).sort(),
  tmp: readdirSync(layout.tmp),
})

t.test('refresh lifecycle against a live daemon', async (t) => {
  const b1 = addPackedBuild(config, 'os1', 'b1', tinyTar('a1', 'one\n'), 'bzip2')
  const b1Served = join(dir, 'b1-v1.tar.bz2')
  writeFileSync(b1Served, readFileSync(b1.tarball))
  addPackedBuild(config, 'os2', 'b2', tinyTar('a2', 'two\n'), 'xz')
  writeFileSync(join(packed, 'README.txt'), 'not a build\n')

  let res = await refresh({ config })
  t.same([res.published, res.unchanged, res.removed, res.failed], [['b1', 'b2'], [], [], []], 'both new builds published')
  t.same(res.ignored, ['README.txt'])
  t.same((await listBuilds(config)).map((b) => b.name), ['b1', 'b2'])
  const served = await startServe({ config })
  t.teardown(served.stop)
  const port = served.port
  t.same(listModules(port), ['build-b1', 'build-b2'])
  t.same(await pullAndCompare(port, 'b1', b1.tarball), [])

  res = await refresh({ config })
  t.same([res.published, res.unchanged], [[], ['b1', 'b2']], 'unchanged builds are not unpacked again')

  t.test('a changed tarball under the same NAME is re-published; the old version, pulled by nobody, is collected at once', async (t) => {
    const v2 = addPackedBuild(config, 'os1', 'b1', tinyTar('a1v2', 'one, version 2\n'), 'bzip2')
    const before = readdirSync(layout.trees).filter((d) => d.startsWith('b1@'))
    const r = await refresh({ config })
    t.same([r.published, r.unchanged], [['b1'], ['b2']])
    t.same(await pullAndCompare(port, 'b1', v2.tarball), [])
    const after = readdirSync(layout.trees).filter((d) => d.startsWith('b1@'))
    t.equal(after.length, 1, 'the replaced version is gone: no laptop was pulling it (test/remove-prune.ts: one that is pulled stays)')
    t.notOk(before.some((d) => after.includes(d)), 'old version collected')
    writeFileSync(b1Served, readFileSync(v2.tarball))
  })

  t.test('bad builds: nothing new published, previous version still served, config unchanged', async (t) => {
    const cases: [string, () => void, string, string][] = [
      ['bad md5 of a new build', () => { addPackedBuild(config, 'os3', 'b3', tinyTar('a3', 'three\n'), 'xz', { md5: '0'.repeat(32) }) }, 'b3', 'E_CHECKSUM'],
      ['bad md5 of a changed build', () => { addPackedBuild(config, 'os1', 'b1', tinyTar('a1v3', 'one, version 3\n'), 'bzip2', { md5: 'f'.repeat(32) }) }, 'b1', 'E_CHECKSUM'],
      ['hostile archive replacing a build', () => {
        addPackedBuild(config, 'os1', 'b1', tinyTar('a1evil', 'evil\n', [{ name: '../../outside', data: Buffer.from('x') }]), 'bzip2')
      }, 'b1', 'E_ARCHIVE_UNSAFE'],
      ['symlink escape in a new build', () => {
        addPackedBuild(config, 'os5', 'b5', tinyTar('a5', 'five\n', [{ name: 'etc/link', type: '2', linkname: '/tmp' }, { name: 'etc/link/x', data: Buffer.from('x') }]), 'xz')
      }, 'b5', 'E_ARCHIVE_UNSAFE'],
      ['hostile NAME', () => { addPackedBuild(config, 'os4', 'b4', tinyTar('a4', 'four\n'), 'xz', { nameText: 'evil]\n[x' }) }, 'os4', 'E_BUILD_NAME'],
      ['NAME with a path', () => { addPackedBuild(config, 'os4', 'b4', tinyTar('a4', 'four\n'), 'xz', { nameText: '../../etc\n' }) }, 'os4', 'E_BUILD_NAME'],
      ['two builds claiming one NAME', () => { addPackedBuild(config, 'os6', 'b2', tinyTar('a6', 'six\n'), 'xz') }, 'b2', 'E_BUILD_NAME'],
    ]
    for (const [what, make, build, code] of cases) {
      const saved = readdirSync(packed)
      const before = snapshot()
      const recsBefore = await listBuilds(config)
      make()
      const r = await refresh({ config })
      t.same(r.published, [], `${what}: nothing published`)
      t.match(r.failed, [{ build, error: { code } }], `${what}: failed with ${code}`)
      t.same(snapshot(), before, `${what}: config, published links and ROOT/tmp unchanged`)
      t.same(await listBuilds(config), recsBefore, `${what}: records unchanged`)
      t.same(listModules(port), ['build-b1', 'build-b2'], `${what}: daemon still reads the config`)
      t.same(await pullAndCompare(port, 'b1', b1Served), [], `${what}: previous b1 still served`)
      t.notOk(readdirSync(dir).includes('outside'), `${what}: nothing written outside`)
      // put the packed folder back as it was
      for (const f of readdirSync(packed)) if (!saved.includes(f)) rmSync(join(packed, f))
      if (build === 'b1') {
        addPackedBuild(config, 'os1', 'b1', tinyTar('a1v2', 'one, version 2\n'), 'bzip2')
        t.same((await refresh({ config })).published, ['b1'], `${what}: restored`)
      }
    }
    const r = await refresh({ config })
    t.same(r.failed, [], 'clean again')
  })

  t.test('the CLI exits with the failed build\'s code and says FAILED', async (t) => {
    addPackedBuild(config, 'os7', 'b7', tinyTar('a7', 'seven\n'), 'xz', { md5: '1'.repeat(32) })
    const r = xsRsync(config, ['refresh'])
    t.equal(r.status, 12, 'E_CHECKSUM exit status')
    t.match(r.stderr, /FAILED: 1 build\(s\) not published \(b7\); builds available to laptops: b1, b2 \(rsync:\/\/[^/]+\/build-b1, rsync:\/\/[^/]+\/build-b2\)\. build checksum does not match/)
    for (const f of readdirSync(packed)) if (f.startsWith('os7')) rmSync(join(packed, f))
  })

  t.test('a removed .name removes the build', async (t) => {
    rmSync(join(packed, 'os2.name'))
    const r = await refresh({ config })
    t.same([r.removed, r.unchanged], [['b2'], ['b1']])
    t.same(listModules(port), ['build-b1'])
    t.same((await listBuilds(config)).map((b) => b.name), ['b1'])
    t.notOk(readdirSync(layout.records).includes('b2.json'))
  })

  t.test('--force unpacks everything again', async (t) => {
    const r = xsRsync(config, ['refresh', '--force'])
    t.equal(r.status, 0, r.stderr)
    t.match(r.stderr, /DONE: published b1/)
    t.same(await pullAndCompare(port, 'b1', b1Served), [])
  })

  t.test('staging left by a killed run is removed; live staging is not', async (t) => {
    mkdirSync(join(layout.tmp, 'publish.999999999.abcdef', 'build'), { recursive: true })
    mkdirSync(join(layout.tmp, `ingest.${process.pid}.abcdef`))
    await refresh({ config })
    t.same(readdirSync(layout.tmp), [`ingest.${process.pid}.abcdef`])
    rmSync(join(layout.tmp, `ingest.${process.pid}.abcdef`), { recursive: true })
  })
})

t.test('one job at a time: a second refresh waits (and says so) or refuses', async (t) => {
  const lock = await holdStoreLock(config)
  await t.rejects(refresh({ config, lock: { wait: false } }), { code: 'E_LOCKED' })
  const child = spawn(process.execPath, [XS_BIN, 'refresh', ...configArgs(config), '--no-syslog'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000)
  // bounded wait for the notice, then let it run
  for (let i = 0; i < 200 && !/waiting for it to finish/.test(err); i++) await new Promise((r) => setTimeout(r, 50))
  t.match(err, /Another xs-rsync job is running on this store; waiting for it to finish/)
  t.equal(child.exitCode, null, 'still waiting while the lock is held')
  await lock.release()
  t.equal(await exited, 0, err)
  clearTimeout(kill)
})
