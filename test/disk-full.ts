// Disk full (issue 5): the store lives on a small ext4 filesystem (a file,
// mkfs.ext4, mount -o loop). A stick that cannot fit is refused before
// anything is copied (E_NO_SPACE saying needed and free MB); a stick whose
// size estimate lies (a highly compressible tarball: small, passes the
// check, unpacks to more than the free space) runs out mid-unpack and
// aborts cleanly with E_NO_SPACE. Both times: the published build is still
// served exactly, no staging is left, the free space comes back, the status
// records the refusal, and the CLI exits with E_NO_SPACE's status.
import t, { type Test } from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, rmdirSync, statfsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ERROR_TABLE, type XsConfig } from '@xs-rsync/core'
import { ingest, readStatus } from '@xs-rsync/agent'
import { listBuilds, publishLayout, refresh } from '@xs-rsync/publisher'
import { sampleEntries, type SampleEntry } from '../packages/xs-rsync/src/demo/sample-build.js'
import { logSink, sampleBuild, stickOf, testConfig } from '../packages/agent/test/lib/ingest-fixture.js'
import { archiveEntries } from './lib/archive-entries.js'
import { dumpTree } from './lib/dump-tree.js'
import { pullBuild } from './lib/pull-build.js'
import { startServe } from './lib/start-serve.js'
import { compareTrees } from './lib/tree-entry.js'
import { writeConfigFile } from './lib/device-ingest.js'
import { XS_BIN } from './lib/xs-cli.js'

const MiB = 1024 * 1024
const STORE_MIB = 40

const withFile = (name: string, content: string): SampleEntry[] =>
  [...sampleEntries(), { name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date('2026-02-01T00:00:00Z'), content }]

const freeMiB = (dir: string): number => {
  const s = statfsSync(dir)
  return (s.bavail * s.bsize) / MiB
}

t.test('a full store: refused up front, or aborted mid-unpack; nothing lost', async (t) => {
  const dir = t.testdir({ keys: {} })
  // the mount point is outside the test folder, so tap never removes a live mount
  const mnt = mkdtempSync(join(tmpdir(), 'xs-full-'))
  const image = join(dir, 'store.img')
  execFileSync('truncate', ['-s', `${STORE_MIB}M`, image])
  execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', '-L', 'XSSTORE', image])
  execFileSync('mount', ['-o', 'loop', image, mnt])
  t.teardown(() => {
    execFileSync('umount', ['-l', mnt])
    rmdirSync(mnt)
  })
  // unsigned sticks: permissive by configuration
  const config: XsConfig = { ...testConfig(mnt, join(dir, 'keys')), rsyncdConf: join(dir, 'xs-rsyncd.conf'), security: 'permissive' }
  const layout = publishLayout(config.root)

  const good = await sampleBuild(dir, '44', 'good')
  t.same((await ingest({ config, source: stickOf(dir, [good]) })).published, ['44'], 'build 44 published on the small store')
  const expected = await archiveEntries(good.tarball)
  const serve = await startServe({ config })
  t.teardown(() => serve.stop())
  let pulls = 0
  const stillServed = async (t: Test): Promise<void> => {
    const dest = join(dir, `pull-${pulls++}`)
    const r = pullBuild(serve.port, 'build-44/root', dest, `${dest}.state`)
    t.equal(r.status, 0, r.stderr)
    t.same(compareTrees(expected, dumpTree(dest, `${dest}.state`)), [], 'build 44 still served exactly')
    t.same(readdirSync(layout.tmp), [], 'no staging left')
    t.same((await listBuilds(config)).map((b) => b.name), ['44'])
    t.same(readdirSync(layout.packed).sort(), packed0, 'xobuilds-packed holds the served build again')
  }
  const packed0 = readdirSync(layout.packed).sort()
  const free0 = freeMiB(mnt)
  t.ok(free0 > 25 && free0 < STORE_MIB, `about ${Math.round(free0)} MiB free`)

  await t.test('a stick that cannot fit is refused before anything is copied', async (t) => {
    const big = await sampleBuild(dir, '45', '', withFile('usr/big', randomBytes(Math.floor(free0 * 0.45 * MiB)).toString('latin1')))
    const { log, text } = logSink()
    await t.rejects(ingest({ config, source: stickOf(dir, [big]), log }), {
      name: 'XsError', code: 'E_NO_SPACE', message: /the store .* needs (\d+) MB \(copy \d+ MB \+ unpacked trees about \d+ MB \+ reserve 0 MB, the "reserve" setting\) but has \d+ MB free/,
    })
    t.notMatch(text(), /Copying/, 'nothing was copied')
    t.ok(Math.abs(freeMiB(mnt) - free0) < 1, 'the free space is unchanged')
    t.match((await readStatus(layout.state)).last, { ok: false, code: 'E_NO_SPACE', line: /^FAILED: .*needs \d+ MB.*but has \d+ MB free/ })
    await stillServed(t)
  })

  await t.test('a lying estimate (compressible tarball) runs out mid-unpack: E_NO_SPACE, nothing lost', async (t) => {
    // ~ free0 + 16 MiB of one letter: a bzip2 tarball of a few KB, far under the 3x estimate
    const bomb = await sampleBuild(dir, '44', '', withFile('usr/zeros', 'z'.repeat(Math.ceil((free0 + 16) * MiB))))
    const stick = stickOf(dir, [bomb])
    const { log, text } = logSink()
    await t.rejects(ingest({ config, source: stick, log }), { name: 'XsError', code: 'E_NO_SPACE', message: /no space|ENOSPC|space/i })
    t.match(text(), /Copying and verifying[\s\S]*Unpacking build 44/, 'it passed the space check and started unpacking')
    t.ok(Math.abs(freeMiB(mnt) - free0) < 1, `the space came back (${freeMiB(mnt).toFixed(1)} of ${free0.toFixed(1)} MiB free)`)
    t.match((await readStatus(layout.state)).last, { ok: false, code: 'E_NO_SPACE' })
    await stillServed(t)

    // the CLI: exit status of E_NO_SPACE and one FAILED line
    const r = spawnSync(process.execPath, [XS_BIN, 'ingest', '--config', writeConfigFile(dir, config, join(dir, 'no-syslog')), '--no-syslog', stick],
      { encoding: 'utf8', timeout: 300_000 })
    t.match(r.stderr, /Unpacking build 44/, 'the CLI too passed the space check and started unpacking')
    t.equal(r.status, ERROR_TABLE.E_NO_SPACE.exit, r.stderr)
    t.equal(r.stderr.match(/FAILED:/g)?.length, 1, 'one FAILED line')
    t.match(r.stderr.trim().split('\n').at(-1), /FAILED: .*(space|ENOSPC)/i)
    await stillServed(t)
  })

  await t.test('refresh of a packed build that does not fit: that build fails, the served version stays', async (t) => {
    const packed = layout.packed
    const before = readdirSync(packed).sort()
    const bomb = await sampleBuild(dir, '46', '', withFile('usr/zeros', 'z'.repeat(Math.ceil((free0 + 16) * MiB))))
    for (const f of [bomb.tarball, bomb.md5File, bomb.contentsFile, bomb.nameFile]) execFileSync('cp', [f, packed])
    const res = await refresh({ config })
    t.same(res.failed.map((f) => [f.build, f.error.code]), [['46', 'E_NO_SPACE']])
    t.same(res.offered, ['44'])
    for (const f of readdirSync(packed)) if (!before.includes(f)) execFileSync('rm', [join(packed, f)])
    t.ok(Math.abs(freeMiB(mnt) - free0) < 1, 'the space came back')
    await stillServed(t)
  })
})
