// A packed build whose archive is refused for what it holds is not unpacked
// again by every later job (the "Seen" case of issue 10: one bad build made
// every refresh fail). The refusal is recorded; later refreshes skip the same
// files with a warning and keep serving the previous version; new files or
// --force try again.
import t from 'tap'
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { publishLayout } from '@xs-rsync/publisher'
import { rawTar } from '../packages/publisher/test/lib/make-archive.js'
import { addPackedBuild, testStore } from './lib/test-store.js'
import { xsRsync } from './lib/xs-cli.js'

const dir = t.testdir({ tars: {} })
const config = testStore(dir, 'fake-super')
const layout = publishLayout(config.root)
let n = 0
const tar = (entries: Parameters<typeof rawTar>[0]): string => {
  const f = join(dir, 'tars', `t${n++}.tar`)
  writeFileSync(f, rawTar(entries))
  return f
}
const good = (issue: string): string => tar([{ name: 'etc/', type: '5', mode: 0o755 }, { name: 'etc/issue', data: Buffer.from(issue) }])
const hostile = (): string => tar([{ name: 'etc/', type: '5' }, { name: 'etc/../../escape', data: Buffer.from('x') }])
const lines = (r: { stdout: string, stderr: string }): string[] => (r.stdout + r.stderr).split('\n')
const served = (): Record<string, string> => Object.fromEntries(readdirSync(layout.builds).filter((b) => !b.startsWith('.')).map((b) => [b, readlinkSync(join(layout.builds, b))]))

t.test('a refused build is recorded, skipped with a warning by later refreshes, tried again when it changes or with --force', async (t) => {
  addPackedBuild(config, 'os1', 'b1', good('one\n'), 'xz')
  let r = xsRsync(config, ['refresh'])
  t.equal(r.status, 0, r.stderr)
  const before = served()
  const record = readFileSync(join(layout.records, 'b1.json'), 'utf8')

  // b1 replaced by a hostile tarball; b2 new and hostile
  addPackedBuild(config, 'os1', 'b1', hostile(), 'xz')
  addPackedBuild(config, 'os2', 'b2', hostile(), 'xz')
  r = xsRsync(config, ['refresh'])
  t.equal(r.status, 13, 'E_ARCHIVE_UNSAFE')
  t.equal(lines(r).filter((l) => /FAILED:/.test(l)).length, 1, 'one FAILED line')
  t.equal(lines(r).filter((l) => /DONE:/.test(l)).length, 0)
  t.same(served(), before, 'the earlier b1 is still served; nothing of b2')
  t.equal(readFileSync(join(layout.records, 'b1.json'), 'utf8'), record, 'b1\'s record unchanged')
  t.same(readdirSync(layout.tmp), [], 'store tmp empty')
  t.same(readdirSync(join(layout.state, 'refused')).sort(), ['b1.json', 'b2.json'], 'both refusals recorded')

  r = xsRsync(config, ['refresh'])
  t.equal(r.status, 0, 'the next refresh does not fail on them again')
  t.match(r.stdout + r.stderr, /Build b1: not unpacked again: .*os1-tree\.tar\.xz was refused on .*\(.*contains a "\.\." component\).*the previous version stays available/)
  t.match(r.stdout + r.stderr, /Build b2: not unpacked again/)
  t.notMatch(r.stdout + r.stderr, /Unpacking build/, 'nothing unpacked')
  t.match(lines(r).filter((l) => /DONE:/.test(l)), [/not unpacked again \(refused before, see the warnings\) b1, b2/])
  t.same(served(), before)

  r = xsRsync(config, ['refresh', '--force'])
  t.equal(r.status, 13, '--force tries them again')
  t.match(r.stdout + r.stderr, /Unpacking build b2/)

  addPackedBuild(config, 'os2', 'b2', good('two\n'), 'xz')
  r = xsRsync(config, ['refresh'])
  t.match(r.stdout + r.stderr, /Unpacking build b2/, 'new files for b2 are tried')
  t.equal(r.status, 0, 'b1 is skipped again, b2 published')
  t.ok(existsSync(join(layout.builds, 'b2')))
  t.same(readdirSync(join(layout.state, 'refused')), ['b1.json'], 'b2\'s refusal is gone with its files')
})
