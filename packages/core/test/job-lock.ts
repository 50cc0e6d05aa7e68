import t from 'tap'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { acquireLock } from '../src/job-lock.js'

t.test('second holder is refused, then gets it after release', async (t) => {
  const dir = t.testdir({})
  const p = join(dir, 'lock')
  const a = await acquireLock(p, { wait: false })
  await t.rejects(acquireLock(p, { wait: false }), { name: 'XsError', code: 'E_LOCKED' })
  let waited = false
  const pending = acquireLock(p, { wait: true, onWait: () => { waited = true } })
  await new Promise((r) => setTimeout(r, 200))
  await a.release()
  const b = await pending
  t.ok(waited, 'onWait was called')
  await b.release()
})

t.test('a SIGKILLed holder does not leave the lock stuck', async (t) => {
  const dir = t.testdir({})
  const p = join(dir, 'lock')
  // a child node process takes the lock with acquireLock, says so, and is then SIGKILLed
  const src = new URL('../src/job-lock.ts', import.meta.url).href
  const child = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e',
    `const { acquireLock } = await import(${JSON.stringify(src)}); await acquireLock(${JSON.stringify(p)}, { wait: false }); console.log('held'); setTimeout(() => {}, 60000)`],
  { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve) => child.stdout.on('data', () => resolve()))
  await t.rejects(acquireLock(p, { wait: false }), { code: 'E_LOCKED' })
  child.kill('SIGKILL')
  await new Promise((r) => child.on('close', r))
  const l = await acquireLock(p, { wait: true, timeoutSeconds: 5 })
  t.pass('lock taken after the holder was killed')
  await l.release()
})

t.test('waiting stops when the signal aborts', async (t) => {
  const dir = t.testdir({})
  const p = join(dir, 'lock')
  const a = await acquireLock(p, { wait: false })
  const ac = new AbortController()
  const waiting = acquireLock(p, { wait: true, signal: ac.signal })
  setTimeout(() => { ac.abort(new Error('stopped by test')) }, 100)
  await t.rejects(waiting, { message: 'stopped by test' })
  await a.release()
  const b = await acquireLock(p, { wait: false })
  t.pass('the lock is free again after the aborted wait')
  await b.release()
})
