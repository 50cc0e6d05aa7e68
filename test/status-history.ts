// `xs-rsync status` shows jobs of every kind while they run (a refresh --force
// waiting for the store lock here) and keeps the last 50 jobs: ingests with
// the stick and who signed, refresh, remove, verify... with their final line.
import t from 'tap'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { ingest } from '@xs-rsync/agent'
import { HISTORY_SIZE, appendJobRecord, readJobHistory } from '@xs-rsync/core'
import { daysAgo, disposeKeys, makeKeys, sampleBuild, stickOf, testConfig, writeKeyring, type Keys } from '../packages/agent/test/lib/ingest-fixture.js'
import { holdStoreLock } from './lib/hold-store-lock.js'
import { configArgs, XS_BIN, xsRsync } from './lib/xs-cli.js'

let keys: Keys
t.before(() => { keys = makeKeys() })
t.teardown(() => disposeKeys(keys))

t.test('jobs in progress of every kind, and the history of finished ones', async (t) => {
  const dir = t.testdir({})
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const stick = stickOf(dir, [await sampleBuild(dir, '44')], { key: keys.rsa, at: daysAgo(2) })
  await ingest({ config, source: stick })

  // a refresh --force waiting for the lock is a job in progress
  const lock = await holdStoreLock(config)
  const child = spawn(process.execPath, [XS_BIN, 'refresh', '--force', ...configArgs(config), '--no-syslog'], { stdio: 'ignore' })
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  t.teardown(() => { child.kill('SIGKILL') })
  let status = ''
  for (let i = 0; i < 200 && !/Job in progress/.test(status); i++) {
    status = xsRsync(config, ['status']).stdout
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.match(status, new RegExp(`^Job in progress \\(pid ${child.pid}, since \\S+\\): xs-rsync refresh --force$`, 'm'))
  await lock.release()
  t.equal(await exited, 0)

  t.equal(xsRsync(config, ['verify']).status, 0)
  t.equal(xsRsync(config, ['remove', 'nope']).status, 28)
  const r = xsRsync(config, ['status'])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /No ingest in progress\./)
  t.notMatch(r.stdout, /Job in progress/)
  t.match(r.stdout, /Last 4 jobs \(newest first\):\n {2}\S+ \S+ {2}FAILED \(E_NO_BUILD\) {2}remove nope\n {6}FAILED: no such build: there is no published build nope; the published builds are 44\. /)
  t.match(r.stdout, / {2}ok {6}verify\n {6}DONE: 44: the served files are exactly what its archive says/)
  t.match(r.stdout, / {2}ok {6}refresh --force\n {6}DONE: /)
  t.match(r.stdout, new RegExp(` {2}ok {6}ingest .*, signed by (NOC key )?${keys.rsa.fingerprint}[^\\n]*\\n {6}DONE: builds now available to laptops: 44 \\(rsync://[^/]+/build-44\\)`))
  t.match(r.stdout, new RegExp(`^44 .* \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ {2}${keys.rsa.fingerprint}$`, 'm'), 'the build table shows when and by whom it was signed')
  const json = JSON.parse(xsRsync(config, ['status', '--json']).stdout) as { history: { kind: string, signedBy?: string }[], jobs: unknown[] }
  t.same(json.history.map((h) => h.kind), ['remove', 'verify', 'refresh', 'ingest'])
  t.equal(json.history[3]?.signedBy, keys.rsa.fingerprint)
  t.same(json.jobs, [])
})

t.test('the history keeps the newest 50', async (t) => {
  const state = t.testdir({})
  for (let i = 0; i < HISTORY_SIZE + 5; i++) {
    await appendJobRecord(state, { kind: 'refresh', args: [String(i)], startedAt: new Date(1e12 + i * 1000).toISOString(), finishedAt: new Date(1e12 + i * 1000).toISOString(), ok: true, line: `DONE: ${i}` })
  }
  const h = await readJobHistory(state)
  t.equal(h.length, HISTORY_SIZE)
  t.equal(h[0]?.line, `DONE: ${HISTORY_SIZE + 4}`, 'newest first')
  t.equal(h.at(-1)?.line, 'DONE: 5', 'the oldest five are gone')
})
