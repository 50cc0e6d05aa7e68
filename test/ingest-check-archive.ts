// `ingest --check` (and so prepare-stick's read-back at the NOC) runs every
// archive through the whole unpack path, writing nothing: a stick whose
// archive a school would refuse is refused by the check, with the same words.
import t from 'tap'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { ingest } from '@xs-rsync/agent'
import type { XsConfig } from '@xs-rsync/core'
import { disposeKeys, logSink, makeKeys, sampleBuild, stagingLeft, stickOf, testConfig, writeKeyring, type Keys } from '../packages/agent/test/lib/ingest-fixture.js'

let keys: Keys
t.before(() => { keys = makeKeys() })
t.teardown(() => disposeKeys(keys))

const mtime = new Date('2026-02-01T00:00:00Z')

t.test('a hostile archive fails the check as it would fail at the school; a good one passes, nothing written', async (t) => {
  const dir = t.testdir({})
  const config: XsConfig = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const bad = await sampleBuild(dir, '46', '', [
    { name: 'etc', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime },
    { name: 'etc/../../escape', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime, content: 'x\n' },
  ])
  const s = stickOf(dir, [bad], { key: keys.ed })
  await t.rejects(ingest({ config, source: s, check: true }),
    { code: 'E_ARCHIVE_UNSAFE', message: /entry "etc\/\.\.\/\.\.\/escape" contains a "\.\." component; build 46 would be refused at the school/ })
  const school = await ingest({ config, source: stickOf(dir, [bad], { key: keys.ed }) }).then(() => undefined, (e: Error) => e)
  t.match(school, { code: 'E_ARCHIVE_UNSAFE', message: /entry "etc\/\.\.\/\.\.\/escape" contains a "\.\." component/ }, 'the school refuses it for the same entry')

  const good = await sampleBuild(dir, '45', 'new')
  const { log, text } = logSink()
  const r = await ingest({ config, source: stickOf(dir, [good], { key: keys.ed }), check: true, log })
  t.same(r.published, ['45'], 'would be published')
  t.match(text(), /Checking the archive of build 45 \(every entry, as empty files in a throwaway folder in .*\/tmp\)/)
  t.match(text(), /The archive of 1 build unpack cleanly \(\d+ names, every check and limit; nothing kept\)/)
  t.same(stagingLeft(config), [])
  t.same(readdirSync(join(config.root, 'pub', 'builds')).filter((b) => !b.startsWith('.')), [], 'nothing published by the checks or the refused ingest')
})
