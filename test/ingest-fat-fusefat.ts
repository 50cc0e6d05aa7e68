// A real FAT stick (mkfs.vfat + mtools, never mounted to make) on a loop
// device, ingested through the CLI. Kernels without vfat (like this test
// machine's) read it through fusefat; with vfat the kernel mounts it.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { listBuilds } from '@xs-rsync/publisher'
import {
  daysAgo, disposeKeys, makeKeys, sampleBuild, stickOf, testConfig, writeKeyring, type Keys,
} from '../packages/agent/test/lib/ingest-fixture.js'
import { startRsyslog } from './lib/rsyslog.js'
import { attachLoop, fatImageOf, isMounted } from './lib/stick-image.js'
import { ingestDevice, ourLines, writeConfigFile } from './lib/device-ingest.js'

let keys: Keys
t.before(() => { keys = makeKeys() })
t.teardown(() => disposeKeys(keys))

const kernelVfat = readFileSync('/proc/filesystems', 'utf8').includes('\tvfat\n')

t.test('FAT stick: read-only mount, verified, published, unmounted', async (t) => {
  const dir = t.testdir({})
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const rs = await startRsyslog(t, dir)
  const configFile = writeConfigFile(dir, config, rs.socket)
  const stick = stickOf(dir, [await sampleBuild(dir, '80')], { key: keys.ed, armor: true, at: daysAgo(1) })
  const dev = attachLoop(t, fatImageOf(join(dir, 'stick.img'), stick, { label: 'NOC80' }))

  const r = ingestDevice(configFile, dev)
  t.equal(r.status, 0, r.stderr)
  t.same((await listBuilds(config)).map((b) => b.name), ['80'])
  const lines = ourLines(await rs.waitFor((l) => l.some((x) => x.includes('DONE:'))))
  const text = lines.join('\n')
  if (!kernelVfat) t.match(text, /user\.info The kernel cannot mount vfat; reading \/dev\/loop\d+ through fusefat \(read-only\)/)
  t.match(text, /user\.info Mounted \/dev\/loop\d+ \(label "NOC80"\) \(vfat\) read-only/)
  t.match(text, /Signature .* is valid/)
  t.match(lines.at(-1), /^user\.notice DONE: builds now available to laptops: 80 /)
  t.notOk(isMounted(dev), 'unmounted afterwards (fusermount -u)')
  t.same(readdirSync(config.mountBase), [])
})

t.test('FAT stick with no builds folder: says so, exit 0, unmounted', async (t) => {
  const dir = t.testdir({ content: { 'holiday.jpg': 'x', 'notes.txt': 'y' } })
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const rs = await startRsyslog(t, dir)
  const configFile = writeConfigFile(dir, config, rs.socket)
  const dev = attachLoop(t, fatImageOf(join(dir, 'stick.img'), join(dir, 'content')))
  const r = ingestDevice(configFile, dev)
  t.equal(r.status, 0, r.stderr)
  const lines = ourLines(await rs.waitFor((l) => l.some((x) => x.includes('DONE:'))))
  t.match(lines.at(-1), /^user\.notice DONE: \/dev\/loop\d+ .*holds no xs-xobuilds folder: no builds on this stick, nothing changed/)
  t.notOk(isMounted(dev))
})
