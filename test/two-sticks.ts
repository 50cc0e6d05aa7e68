// Two sticks at once (issue 5): two real `xs-rsync ingest` processes on two
// different sticks. The first is frozen (SIGSTOP) while it copies, holding
// the store lock; the second is started, says it waits, and publishes
// nothing until the first has finished. Both end with exit 0 and laptops
// get both builds exactly as their archives say.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { acquireLock } from '@xs-rsync/core'
import { readStatus } from '@xs-rsync/agent'
import { listBuilds, publishLayout } from '@xs-rsync/publisher'
import { sampleBuild, stickOf, testConfig } from '../packages/agent/test/lib/ingest-fixture.js'
import { archiveEntries } from './lib/archive-entries.js'
import { dumpTree } from './lib/dump-tree.js'
import { listModules, pullBuild } from './lib/pull-build.js'
import { startServe } from './lib/start-serve.js'
import { compareTrees } from './lib/tree-entry.js'
import { configArgs, XS_BIN } from './lib/xs-cli.js'

interface Ingest {
  child: ChildProcess
  stderr: () => string
  exit: Promise<number | null>
  /** It was frozen on its `freezeAt` line. */
  frozen: () => boolean
}

const startIngest = (config: Parameters<typeof configArgs>[0], stick: string, freezeAt?: RegExp): Ingest => {
  const child = spawn(process.execPath, [XS_BIN, 'ingest', stick, ...configArgs(config), '--keyring', config.keyring, '--security', 'permissive', '--no-syslog'],
    { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  let frozen = false
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString()
    if (!frozen && freezeAt?.test(err) === true) frozen = child.kill('SIGSTOP')
  })
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return { child, stderr: () => err, exit, frozen: () => frozen }
}

const waitFor = async (what: string, cond: () => boolean, ms = 120_000): Promise<void> => {
  for (const end = Date.now() + ms; !cond(); await sleep(25)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
  }
}

t.test('two sticks at once: serialized, the second says it waits, both published', async (t) => {
  const dir = t.testdir({})
  mkdirSync(join(dir, 'keys'))
  const config = testConfig(dir, join(dir, 'keys'))
  const b70 = await sampleBuild(dir, '70', 'seventy')
  const b71 = await sampleBuild(dir, '71', 'seventy-one')
  const first = startIngest(config, stickOf(dir, [b70]), /\[7\/8\] Copying/)
  t.teardown(() => { first.child.kill('SIGKILL') })
  await waitFor('the first ingest to copy', () => first.frozen() || first.child.exitCode !== null)
  t.ok(first.frozen(), 'the first ingest is frozen while it copies, inside the store lock')

  const second = startIngest(config, stickOf(dir, [b71]))
  t.teardown(() => { second.child.kill('SIGKILL') })
  await waitFor('the second ingest to wait', () => /waiting for it to finish/.test(second.stderr()) || second.child.exitCode !== null)
  t.match(second.stderr(), /Another stick is being processed; waiting for it to finish/, 'the second says it waits')
  await sleep(500)
  t.notMatch(second.stderr(), /\[5\/8\]|Copying|Publishing/, 'and does nothing more while the first holds the store')
  t.same((await listBuilds(config)).map((b) => b.name), [], 'nothing published yet')

  first.child.kill('SIGCONT')
  const [c1, c2] = await Promise.all([first.exit, second.exit])
  t.equal(c1, 0, first.stderr())
  t.equal(c2, 0, second.stderr())
  t.match(first.stderr(), /DONE: builds now available to laptops: 70 /)
  t.match(second.stderr(), /DONE: builds now available to laptops: 70, 71 .*published 71/, 'the second ran after the first')

  const layout = publishLayout(config.root)
  t.same(readdirSync(layout.tmp), [], 'no staging left')
  const lock = await acquireLock(layout.lock, { wait: false })
  await lock.release()
  t.match((await readStatus(layout.state)).last, { ok: true, published: ['71'] })
  t.same((await readStatus(layout.state)).running, [])

  const serve = await startServe({ config })
  t.teardown(() => serve.stop())
  t.same(listModules(serve.port).filter((m) => m.startsWith('build-')).sort(), ['build-70', 'build-71'])
  for (const b of [b70, b71]) {
    const name = b.nameFile.includes('os70') ? '70' : '71'
    const dest = join(dir, `pull-${name}`)
    const r = pullBuild(serve.port, `build-${name}/root`, dest, `${dest}.state`)
    t.equal(r.status, 0, r.stderr)
    t.same(compareTrees(await archiveEntries(b.tarball), dumpTree(dest, `${dest}.state`)), [], `laptops get build ${name} exactly`)
  }
})
