import t from 'tap'
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { readStatus, runningDir, showsInStatus, StatusRecorder } from '../src/status-record.js'

t.test('running while in progress, last result after; dead processes are not shown', async (t) => {
  const state = join(t.testdir({}), 'state')
  t.same(await readStatus(state), { running: [] }, 'nothing yet')
  const rec = new StatusRecorder(state, '/dev/sdb1')
  rec.step(3, 8, 'Checking the signature')
  rec.progress(40, '44')
  await rec.finish({ finishedAt: 'x', source: '/dev/sdb1', ok: true, published: [], skipped: [], line: 'not yet' }).catch(() => {})
  const rec2 = new StatusRecorder(state, '/dev/sdc1')
  rec2.step(7, 8, 'Copying and verifying 10.0 MB')
  await new Promise((r) => setTimeout(r, 50))
  const mid = await readStatus(state)
  t.equal(mid.running.length, 1)
  t.match(mid.running[0], { pid: process.pid, source: '/dev/sdc1', step: 7, steps: 8, title: /Copying/ })
  t.equal(mid.last?.line, 'not yet')
  // a file left by a killed ingest (pid that does not exist) is skipped
  mkdirSync(runningDir(state), { recursive: true })
  writeFileSync(join(runningDir(state), '999999999.json'), JSON.stringify({ pid: 999999999, source: 'dead', step: 1, steps: 8, title: 't' }))
  t.equal((await readStatus(state)).running.length, 1, 'dead pid not shown')
  await rec2.finish({ finishedAt: '2026-01-01T00:00:00.000Z', source: '/dev/sdc1', ok: false, published: [], skipped: ['44'], code: 'E_DOWNGRADE', message: 'older', line: 'FAILED: x' })
  const end = await readStatus(state)
  t.same(end.running, [])
  t.match(end.last, { ok: false, code: 'E_DOWNGRADE', skipped: ['44'], line: 'FAILED: x' })
  t.same(readdirSync(runningDir(state)), ['999999999.json'], 'our running file is removed')
})

t.test('a status that cannot be written is a warning, never a failure', async (t) => {
  const file = join(t.testdir({ state: 'a file, not a folder' }), 'state')
  const logs: string[] = []
  const rec = new StatusRecorder(file, 'src', (l, m) => logs.push(`${l} ${m}`))
  rec.step(1, 2, 'x')
  await rec.finish({ finishedAt: 'x', source: 'src', ok: true, published: [], skipped: [], line: 'DONE' })
  t.equal(logs.length, 1)
  t.match(logs[0], /^warning Cannot write the status/)
})

t.test('showsInStatus: the copy while copying, the unpack while publishing', async (t) => {
  const cases: Array<[string, number, boolean, boolean]> = [
    ['copy', 100, false, true], ['verify', 100, false, true], ['unpack', 100, false, false],
    ['unpack', 100, true, true], ['copy', 100, true, false], ['copy', 0, false, false], ['unpack', 0, true, false],
  ]
  for (const [step, bytesTotal, publishing, shows] of cases) {
    t.equal(showsInStatus({ step: step as 'copy' | 'verify' | 'unpack', bytesTotal }, publishing), shows, `${step} of ${bytesTotal} bytes, publishing=${publishing}`)
  }
})
