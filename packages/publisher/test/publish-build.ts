import t from 'tap'
import { createHash } from 'node:crypto'
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_CONFIG, type Backend, type XsConfig } from '@xs-rsync/core'
import { readBuildRecord } from '../src/build-record.js'
import { parseFakerootState, fakerootKey } from '../src/fakeroot-state.js'
import { publishBuild, publishBuildInLock } from '../src/publish-build.js'
import { publishLayout } from '../src/publish-layout.js'
import { withStoreLock } from '../src/store-lock.js'
import { compressBytes, rawTar } from './lib/make-archive.js'

const store = (dir: string, backend: Backend): XsConfig => {
  const config = { ...DEFAULT_CONFIG, root: join(dir, 'store'), rsyncdConf: join(dir, 'rsyncd.conf'), rsyncdTemplate: join(dir, 'none'), backend }
  mkdirSync(join(config.root, 'xobuilds-packed'), { recursive: true })
  return config
}

const pack = (config: XsConfig, base: string, name: string, issue: string, md5?: string): string => {
  const bytes = compressBytes(rawTar([{ name: './', type: '5', mode: 0o755 }, { name: 'issue', data: Buffer.from(issue) }]), 'xz')
  const tarball = join(config.root, 'xobuilds-packed', `${base}-tree.tar.xz`)
  writeFileSync(tarball, bytes)
  writeFileSync(`${tarball}.md5`, `${md5 ?? createHash('md5').update(bytes).digest('hex')}  x\n`)
  writeFileSync(join(config.root, 'xobuilds-packed', `${base}.contents`), `${name} contents\n`)
  writeFileSync(join(config.root, 'xobuilds-packed', `${base}.name`), `${name}\n`)
  return tarball
}

t.test('publish swaps the symlink, writes the record, keeps and merges extra', async (t) => {
  const config = store(t.testdir({}), 'fake-super')
  const layout = publishLayout(config.root)
  const tarball = pack(config, 'os1', '44', 'v1\n')
  const first = await withStoreLock(config, { wait: false }, () => publishBuildInLock({ config, tarball, extra: { signedAt: 1, by: 'noc' } }))
  t.match(first.record, { name: '44', tarball: 'os1-tree.tar.xz', entries: 2, backend: 'fake-super', extra: { signedAt: 1, by: 'noc' } })
  t.equal(readlinkSync(join(layout.builds, '44')), `.trees/${first.record.tree}`)
  t.equal(readFileSync(join(layout.builds, '44', 'contents'), 'utf8'), '44 contents\n')
  t.equal(readFileSync(join(layout.builds, '44', 'root', 'issue'), 'utf8'), 'v1\n')
  t.ok(lstatSync(join(layout.ownership, `${first.record.tree}.fattr`)).isFile(), 'ownership data kept out of the served tree')
  t.same(readdirSync(join(layout.trees, first.record.tree)).sort(), ['contents', 'root'])

  pack(config, 'os1', '44', 'v2\n')
  const second = await publishBuild({ config, tarball, extra: { signedAt: 2 } })
  t.not(second.record.tree, first.record.tree)
  t.same(second.record.extra, { signedAt: 2, by: 'noc' }, 'extra merged over the previous one')
  t.equal(readFileSync(join(layout.builds, '44', 'root', 'issue'), 'utf8'), 'v2\n')
  t.same(await readBuildRecord(layout.records, '44'), second.record)
  t.match(readFileSync(config.rsyncdConf, 'utf8'), /\[build-44\]/)

  pack(config, 'os1', '44', 'v3\n')
  const third = await publishBuild({ config, tarball })
  t.same(third.record.extra, { signedAt: 2, by: 'noc' }, 'extra kept when not given')
  t.same(readdirSync(layout.trees).sort(), [second.record.tree, third.record.tree].sort(), 'the version before the previous one was collected')
})

t.test('a failed publish changes nothing and leaves no staging', async (t) => {
  const config = store(t.testdir({}), 'fake-super')
  const layout = publishLayout(config.root)
  const tarball = pack(config, 'os1', '44', 'v1\n')
  const ok = await publishBuild({ config, tarball })
  pack(config, 'os1', '44', 'v2\n', 'e'.repeat(32))
  await t.rejects(publishBuild({ config, tarball }), { code: 'E_CHECKSUM' })
  t.same(await readBuildRecord(layout.records, '44'), ok.record)
  t.equal(readFileSync(join(layout.builds, '44', 'root', 'issue'), 'utf8'), 'v1\n')
  t.same(readdirSync(layout.tmp), [])
  t.same(readdirSync(layout.trees), [ok.record.tree])
})

t.test('a NAME differing only in letter case from a published build is refused (rsync module names)', async (t) => {
  const config = store(t.testdir({}), 'fake-super')
  const layout = publishLayout(config.root)
  const ok = await publishBuild({ config, tarball: pack(config, 'os1', 'Alpha', 'v1\n') })
  await t.rejects(publishBuild({ config, tarball: pack(config, 'os2', 'ALPHA', 'v2\n') }),
    { code: 'E_BUILD_NAME', message: /build name ALPHA differs only in letter case from the published build Alpha/ })
  t.same(await readBuildRecord(layout.records, 'Alpha'), ok.record)
  t.equal(await readBuildRecord(layout.records, 'ALPHA'), undefined)
  t.same(readdirSync(layout.tmp), [])
  t.notMatch(readFileSync(config.rsyncdConf, 'utf8'), /build-ALPHA/)
})

t.test('fakeroot: the combined state describes the version dir, contents and the tree', async (t) => {
  const config = store(t.testdir({}), 'fakeroot')
  const layout = publishLayout(config.root)
  const { record } = await publishBuild({ config, tarball: pack(config, 'os1', '44', 'v1\n') })
  const keys = parseFakerootState(readFileSync(layout.fakerootState, 'utf8'), 'state')
  for (const rel of ['', 'contents', 'root', 'root/issue']) {
    const st = lstatSync(join(layout.trees, record.tree, rel), { bigint: true })
    t.ok(keys.has(fakerootKey(st.dev, st.ino)), `${rel || 'version dir'} is in the state`)
  }
  t.match(readFileSync(layout.fakerootState, 'utf8'), /mode=100644,uid=0,gid=0,nlink=1,rdev=0\n/)
})
