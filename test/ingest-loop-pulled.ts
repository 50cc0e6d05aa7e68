// A stick "pulled out" in the middle of the copy: the ingest is paused
// (SIGSTOP) as soon as it says it is copying, the loop device loses its
// medium (backing file truncated, capacity re-read: every read is EIO, as
// with a removed USB stick), and the ingest resumes. It must fail cleanly:
// one FAILED line, nothing published, no staging left, stick unmounted.
import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { closeSync, openSync, readdirSync, truncateSync, writeSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { listBuilds } from '@xs-rsync/publisher'
import { disposeKeys, makeKeys, sampleBuild, stagingLeft, stickOf, testConfig, writeKeyring, type Keys } from '../packages/agent/test/lib/ingest-fixture.js'
import { signStick } from '../packages/agent/test/lib/stick.js'
import { startRsyslog } from './lib/rsyslog.js'
import { attachLoop, ext4ImageOf, isMounted } from './lib/stick-image.js'
import { ourLines, writeConfigFile } from './lib/device-ingest.js'
import { XS_BIN } from './lib/xs-cli.js'

let keys: Keys
t.before(() => { keys = makeKeys() })
t.teardown(() => disposeKeys(keys))

const BIG = 256 // MiB: the copy takes long enough to be caught in the middle

t.test('stick pulled out mid-copy: clean failure, never a partial publish', async (t) => {
  const dir = t.testdir({})
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const rs = await startRsyslog(t, dir)
  const configFile = writeConfigFile(dir, config, rs.socket)
  const stick = stickOf(dir, [await sampleBuild(dir, '90')], { key: keys.ed })
  const buildsDir = join(stick, 'xs-xobuilds')
  const contents = readdirSync(buildsDir).find((f) => f.endsWith('.contents')) ?? ''
  const fd = openSync(join(buildsDir, contents), 'w')
  for (let i = 0; i < BIG; i++) writeSync(fd, randomBytes(1024 * 1024))
  closeSync(fd)
  signStick(buildsDir, { key: keys.ed })
  const image = ext4ImageOf(join(dir, 'stick.img'), stick, { mib: BIG + 64 })
  const dev = attachLoop(t, image)

  const env = { ...process.env }
  delete env.INVOCATION_ID
  delete env.JOURNAL_STREAM
  const child = spawn(process.execPath, [XS_BIN, 'ingest', '--config', configFile, dev], { env, stdio: ['ignore', 'ignore', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  let stderr = ''
  let pulled = false
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
    if (!pulled && /\[7\/8\] Copying/.test(stderr)) {
      pulled = true
      child.kill('SIGSTOP')
      truncateSync(image, 0)
      execFileSync('losetup', ['-c', dev])
      child.kill('SIGCONT')
    }
  })
  const code = await Promise.race([exited, sleep(120_000, 'timeout', { ref: false })])
  t.ok(pulled, 'the stick was pulled during the copy')
  t.equal(code, 26, `E_STICK_CHANGED exit status\n${stderr}`)
  const lines = ourLines(await rs.waitFor((l) => l.some((x) => x.includes('FAILED:'))))
  t.match(lines.at(-1), /^user\.err FAILED: stick changed or was removed while reading: .*Keep the stick plugged in/)
  t.equal(lines.filter((l) => l.includes('FAILED:')).length, 1)
  t.same(await listBuilds(config), [], 'nothing published')
  t.same(stagingLeft(config), [], 'no staging left')
  t.notOk(isMounted(dev), 'unmounted')
  t.same(readdirSync(config.mountBase), [])
})
