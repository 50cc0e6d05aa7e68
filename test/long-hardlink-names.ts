// The "Seen" case of issue 10: a small archive of many hardlinks with long
// GNU names ran V8 out of heap (SIGABRT, no FAILED line) and every later
// refresh crashed the same way. Here, with the heap capped at 96 MiB, such an
// archive ends with DONE or with one FAILED line and a documented exit code,
// never with a signal; and a second refresh does not fail on it again.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { publishLayout } from '@xs-rsync/publisher'
import { rawTar, type RawEntry } from '../packages/publisher/test/lib/make-archive.js'
import { addPackedBuild, testStore } from './lib/test-store.js'
import { configArgs, XS_BIN } from './lib/xs-cli.js'

const dir = t.testdir({ tars: {} })
const config = testStore(dir, 'fake-super')
const layout = publishLayout(config.root)

const refresh = (): ReturnType<typeof spawnSync> =>
  spawnSync(process.execPath, ['--max-old-space-size=96', XS_BIN, 'refresh', ...configArgs(config), '--no-syslog'], { encoding: 'utf8', timeout: 600_000 })

t.test('20,000 hardlinks with 2,900-byte GNU names under a 96 MiB heap', async (t) => {
  // about 3,000 bytes each: one deep folder (11 components of 240 bytes) shared by all, a unique last component
  const deep = Array.from({ length: 11 }, (_, k) => String.fromCharCode(97 + k).repeat(240)).join('/')
  const long = (i: number): string => `d/${deep}/${String(i).padStart(8, '0')}-${'n'.repeat(200)}`
  const entries: RawEntry[] = [{ name: 'd/', type: '5', mode: 0o755 }, { name: 'd/target', data: Buffer.from('x') }]
  for (let i = 0; i < 20_000; i++) {
    entries.push({ name: '././@LongLink', type: 'L', data: Buffer.from(long(i) + '\0', 'latin1') })
    entries.push({ name: 'placeholder', type: '1', linkname: 'd/target' })
  }
  const tarFile = join(dir, 'tars', 'links.tar')
  writeFileSync(tarFile, rawTar(entries))
  addPackedBuild(config, 'links', 'links', tarFile, 'bzip2')
  const r = refresh()
  const out = `${String(r.stdout)}${String(r.stderr)}`
  t.equal(r.signal, null, 'no signal ends the job')
  const finals = out.split('\n').filter((l) => /\b(DONE|FAILED):/.test(l))
  t.equal(finals.length, 1, `one final line: ${finals.join(' | ')}`)
  if (r.status === 0) {
    t.match(finals[0], /DONE: published links/)
  } else {
    t.match(finals[0], /FAILED:/)
    t.ok([5, 13].includes(r.status ?? -1), `a documented exit code (${r.status})`)
  }
  const again = refresh()
  t.equal(again.signal, null, 'the next refresh: no signal either')
  t.equal(again.status, 0, `the next refresh does not fail on it: ${String(again.stderr).slice(-300)}`)
  t.comment(`first refresh: exit ${r.status}: ${finals[0]?.slice(0, 200) ?? ''}`)
  t.same(spawnSync('ls', [layout.tmp], { encoding: 'utf8' }).stdout, '', 'store tmp empty')
})
