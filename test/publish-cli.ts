// The single-build commands: publish (NAME from the argument or the .name file, md5
// checked), unpack (inspection copy with ownership data) and list (table and --json).
import t from 'tap'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { listBuilds, publishLayout } from '@xs-rsync/publisher'
import { rawTar } from '../packages/publisher/test/lib/make-archive.js'
import { addPackedBuild, testStore } from './lib/test-store.js'
import { xsRsync } from './lib/xs-cli.js'

const dir = t.testdir({ tars: {}, elsewhere: {} })
const tarFile = join(dir, 'tars', 'a.tar')
writeFileSync(tarFile, rawTar([
  { name: './', type: '5', mode: 0o755 },
  { name: 'etc/', type: '5', mode: 0o755 },
  { name: 'etc/issue', data: Buffer.from('hello\n'), mode: 0o644 },
]))

t.test('publish BUILDFILE [NAME], then list', async (t) => {
  const config = testStore(join(dir, 's1'))
  const f = addPackedBuild(config, 'os9', 'nine', tarFile, 'xz')
  let r = xsRsync(config, ['publish', f.tarball])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stderr, /DONE: published build nine; builds available to laptops: nine \(rsync:\/\/[^/]+\/build-nine\)/)
  r = xsRsync(config, ['publish', f.tarball, 'nine-b'])
  t.equal(r.status, 0, r.stderr)
  t.same((await listBuilds(config)).map((b) => b.name), ['nine', 'nine-b'])
  t.match(readFileSync(config.rsyncdConf, 'utf8'), /\[build-nine\][^[]*\[build-nine-b\]/)
  r = xsRsync(config, ['list'])
  t.equal(r.status, 0)
  t.match(r.stdout, /^NAME +SIZE +FILES +PUBLISHED +TARBALL +MD5 +SIGNED +SIGNED BY\nnine +\d+ B +3 +\S+ \S+ +os9-tree\.tar\.xz +[0-9a-f]{32} +- +-\nnine-b /)
  const json = JSON.parse(xsRsync(config, ['list', '--json']).stdout) as { name: string, md5: string, entries: number }[]
  t.match(json, [{ name: 'nine', entries: 3 }, { name: 'nine-b' }])
})

t.test('publish refuses a bad md5, a bad NAME and an incomplete build, changing nothing', async (t) => {
  const config = testStore(join(dir, 's2'))
  const f = addPackedBuild(config, 'os8', 'eight', tarFile, 'bzip2', { md5: '2'.repeat(32) })
  let r = xsRsync(config, ['publish', f.tarball])
  t.equal(r.status, 12, r.stderr)
  t.match(r.stderr, /FAILED: build checksum does not match/)
  r = xsRsync(config, ['publish', f.tarball, 'bad name'])
  t.equal(r.status, 11)
  writeFileSync(f.md5File, 'garbage\n')
  r = xsRsync(config, ['publish', f.tarball])
  t.equal(r.status, 10, r.stderr)
  rmSync(f.contentsFile)
  r = xsRsync(config, ['publish', f.tarball])
  t.equal(r.status, 10)
  t.match(r.stderr, /missing contents/)
  t.same(await listBuilds(config), [])
  t.same(readdirSync(publishLayout(config.root).tmp), [], 'no staging left')
  t.notOk(existsSync(config.rsyncdConf), 'no config written')
})

t.test('unpack BUILDFILE DESTDIR gives root/ and the ownership data', async (t) => {
  const config = testStore(join(dir, 's3'))
  const f = addPackedBuild(config, 'os7', 'seven', tarFile, 'lzma')
  const dest = join(dir, 'elsewhere', 'unpacked')
  const r = xsRsync(config, ['unpack', f.tarball, dest])
  t.equal(r.status, 0, r.stderr)
  t.same(readdirSync(dest).sort(), ['ownership.fattr', 'root'])
  t.equal(readFileSync(join(dest, 'root', 'etc', 'issue'), 'utf8'), 'hello\n')
  t.equal(xsRsync(config, ['unpack', f.tarball, dest]).status === 0, false, 'refuses an existing DESTDIR')
  t.equal(xsRsync(config, ['unpack', f.tarball]).status, 2, 'usage')
})
