// A real ext4 stick on a loop device, ingested through the CLI as udev's unit
// would (`xs-rsync ingest /dev/loopN`), logging to a real rsyslogd.
import t from 'tap'
import { readdirSync, readFileSync, appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { listBuilds } from '@xs-rsync/publisher'
import {
  daysAgo, disposeKeys, makeKeys, sampleBuild, stickOf, testConfig, writeKeyring, type Keys,
} from '../packages/agent/test/lib/ingest-fixture.js'
import { startRsyslog } from './lib/rsyslog.js'
import { attachLoop, ext4ImageOf, isMounted } from './lib/stick-image.js'
import { ingestDevice, ourLines, writeConfigFile } from './lib/device-ingest.js'

let keys: Keys
t.before(() => { keys = makeKeys() })
t.teardown(() => disposeKeys(keys))

t.test('ext4 stick: mounted read-only, verified, published, unmounted; syslog tells the story', async (t) => {
  const dir = t.testdir({})
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const rs = await startRsyslog(t, join(dir))
  const configFile = writeConfigFile(dir, config, rs.socket)
  const stick = stickOf(dir, [await sampleBuild(dir, '70')], { key: keys.rsa, at: daysAgo(2) })
  const dev = attachLoop(t, ext4ImageOf(join(dir, 'stick.img'), stick, { label: 'NOC-70' }))

  const r = ingestDevice(configFile, dev)
  t.equal(r.status, 0, r.stderr)
  t.match(r.stderr, /DONE: builds now available to laptops: 70/, 'the terminal gets the lines too')
  t.same((await listBuilds(config)).map((b) => b.name), ['70'])
  t.match(readFileSync(config.rsyncdConf, 'utf8'), /\[build-70\]/)

  const lines = ourLines(await rs.waitFor((l) => l.some((x) => x.includes('DONE:'))))
  const text = lines.join('\n')
  t.match(text, /user\.notice \[1\/8\] Finding the builds on \/dev\/loop\d+/)
  t.match(text, /user\.info Mounted \/dev\/loop\d+ \(label "NOC-70"\) \(ext4\) read-only/)
  for (let i = 2; i <= 8; i++) t.match(text, new RegExp(`user\\.notice \\[${i}/8\\] `), `step ${i} in syslog`)
  t.match(text, /user\.info copy \d+\.\d\/\d+\.\d MB \(100%\), \d+\.\d MB\/s/, 'copy progress')
  t.match(text, /user\.info 70: unpack \d+\.\d\/\d+\.\d MB/, 'unpack progress')
  t.match(lines.at(-1), /^user\.notice DONE: builds now available to laptops: 70 /, 'the final line is the last one')
  t.notOk(isMounted(dev), 'the stick is unmounted afterwards')
  t.same(readdirSync(config.mountBase), [], 'mount folder removed')
})

t.test('a bad hash: refused, nothing published, unmounted all the same', async (t) => {
  const dir = t.testdir({})
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const rs = await startRsyslog(t, join(dir))
  const configFile = writeConfigFile(dir, config, rs.socket)
  const stick = stickOf(dir, [await sampleBuild(dir, '71')], { key: keys.ed })
  const contents = readdirSync(join(stick, 'xs-xobuilds')).find((f) => f.endsWith('.contents')) ?? ''
  appendFileSync(join(stick, 'xs-xobuilds', contents), 'altered after signing\n')
  const dev = attachLoop(t, ext4ImageOf(join(dir, 'stick.img'), stick))

  const r = ingestDevice(configFile, dev)
  t.equal(r.status, 21, 'E_MANIFEST_MISMATCH exit status')
  const lines = ourLines(await rs.waitFor((l) => l.some((x) => x.includes('FAILED:'))))
  t.match(lines.at(-1), new RegExp(`^user\\.err FAILED: stick contents do not match the manifest: .*${contents}`))
  t.equal(lines.filter((l) => l.includes('FAILED:')).length, 1, 'one FAILED line')
  t.notOk(isMounted(dev), 'unmounted after the failure')
  t.same(readdirSync(config.mountBase), [])
  t.same(await listBuilds(config), [])
})
