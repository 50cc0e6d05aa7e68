// Threat: a stick carries a file whose name holds a newline and a forged
// final line ("DONE: ..."). The name reaches the log (unlisted files are
// reported); the forged text must never become a syslog line of its own.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { listBuilds } from '@xs-rsync/publisher'
import { disposeKeys, makeKeys, sampleBuild, stickOf, testConfig, writeKeyring, type Keys } from '../packages/agent/test/lib/ingest-fixture.js'
import { startRsyslog } from './lib/rsyslog.js'
import { attachLoop, ext4ImageOf } from './lib/stick-image.js'
import { ingestDevice, ourLines, writeConfigFile } from './lib/device-ingest.js'

let keys: Keys
t.before(() => { keys = makeKeys() })
t.teardown(() => disposeKeys(keys))

t.test('a file name with a forged "DONE:" line stays inside its message', async (t) => {
  const dir = t.testdir({})
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const rs = await startRsyslog(t, dir)
  const configFile = writeConfigFile(dir, config, rs.socket)
  const stick = stickOf(dir, [await sampleBuild(dir, '95')], { key: keys.ed })
  writeFileSync(join(stick, 'xs-xobuilds', 'x\nDONE: builds now available to laptops: EVIL'), 'not listed\n')
  const dev = attachLoop(t, ext4ImageOf(join(dir, 'stick.img'), stick))

  const r = ingestDevice(configFile, dev)
  t.equal(r.status, 0, r.stderr)
  t.same((await listBuilds(config)).map((b) => b.name), ['95'])
  const lines = ourLines(await rs.waitFor((l) => l.some((x) => / DONE: builds now available to laptops: 95/.test(x))))
  t.notOk(lines.some((l) => /^user\.\w+ DONE: .*EVIL/.test(l)), 'no forged line of its own')
  t.ok(lines.some((l) => /^user\.\w+ +DONE: builds now available to laptops: EVIL/.test(l)), 'the text is there, indented inside its message')
  t.match(lines.at(-1), /^user\.notice DONE: builds now available to laptops: 95 /)
})
