import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import { ingestArgs, ingestChild } from '../../src/commands/watch.js'
import type { CommandContext } from '../../src/command-context.js'
import { startRsyslog } from '../../../../test/lib/rsyslog.js'
import { listBuilds, withStoreLock } from '@xs-rsync/publisher'
import { readStatus } from '@xs-rsync/agent'
import type { Level, XsConfig } from '@xs-rsync/core'
import {
  disposeKeys, makeKeys, sampleBuild, stickOf, testConfig, writeKeyring, type Keys,
} from '../../../agent/test/lib/ingest-fixture.js'

const CLI = fileURLToPath(new URL('../../bin/xs-rsync.js', import.meta.url))

t.test('ingestArgs: the flags ingest shares, then the device', async (t) => {
  const cases: Array<[string, Record<string, string | boolean | undefined>, string[]]> = [
    ['none', {}, ['ingest', '--', '/dev/sdb1']],
    ['config flags', { root: '/srv/xs', keyring: '/k', security: 'enforcing', 'no-syslog': true },
      ['ingest', '--root=/srv/xs', '--keyring=/k', '--security=enforcing', '--no-syslog', '--', '/dev/sdb1']],
    ['ingest flags', { 'allow-downgrade': true, 'syslog-socket': '/dev/log' },
      ['ingest', '--allow-downgrade', '--syslog-socket=/dev/log', '--', '/dev/sdb1']],
    ['not for ingest', { help: true, json: true, port: '873', quiet: false }, ['ingest', '--', '/dev/sdb1']],
  ]
  for (const [name, values, want] of cases) t.same(ingestArgs('/dev/sdb1', values), want, name)
})

t.test('smoke: xs-rsync watch starts, says how it watches, stops on SIGTERM', async (t) => {
  const dir = t.testdir({ store: {} })
  const rs = await startRsyslog(t, dir)
  const env = { ...process.env }
  delete env.INVOCATION_ID
  delete env.JOURNAL_STREAM
  const child = spawn(process.execPath, [CLI, 'watch', `--root=${dir}/store`, `--syslog-socket=${rs.socket}`],
    { env, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  for (let i = 0; i < 200 && !stderr.includes('Watching for USB sticks'); i++) await sleep(50)
  t.match(stderr, /Watching for USB sticks \((usb hot-plug events \+ )?(drivelist|sysfs) every \d+ s\)/)
  t.match(stderr, /USB hot-plug events unavailable: .*|usb hot-plug events/, 'says whether hot-plug events work')
  child.kill('SIGTERM')
  const code = await Promise.race([exited, sleep(15_000, 'timeout', { ref: false })])
  t.equal(code, 0, 'clean exit after SIGTERM')
  t.match(stderr, /Stopped watching for USB sticks/)
  const lines = await rs.waitFor((l) => l.some((x) => x.includes('Stopped watching')))
  t.ok(lines.some((l) => /^user\.notice xs-rsync\[\d+\]: Watching for USB sticks/.test(l)), 'the same lines reach syslog')
})

/** The context `xs-rsync watch` hands its ingest children; log lines go to `logs`. */
const watchContext = (config: XsConfig, logs: string[], values: CommandContext['values'] = {}): CommandContext => ({
  command: 'watch', positionals: [], config, onProgress: () => {}, out: () => {}, signal: new AbortController().signal,
  log: (level: Level, msg: string) => { logs.push(`${level}: ${msg}`) },
  values: { root: config.root, 'rsyncd-conf': config.rsyncdConf, keyring: config.keyring, 'no-syslog': true, quiet: true, ...values },
})

t.test('each stick is ingested by a child xs-rsync ingest with the same flags', async (t) => {
  const keys: Keys = makeKeys()
  t.teardown(() => disposeKeys(keys))
  const dir = t.testdir({})
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const logs: string[] = []
  const ctx = watchContext(config, logs, { 'rsyncd-template': config.rsyncdTemplate })
  const ac = new AbortController()
  await ingestChild(ctx)(stickOf(dir, [await sampleBuild(dir, '30')], { key: keys.ed }), ac.signal)
  t.same((await listBuilds(config)).map((b) => b.name), ['30'], 'published by the child')
  t.same(logs, [], 'success: the child said it all')

  await ingestChild(ctx)(stickOf(dir, [await sampleBuild(dir, '31')], { key: keys.other }), ac.signal)
  t.match(logs, [/^warning: The ingest of .* ended with exit status 23 \(see its FAILED line\)/], 'a refusal is noted, not thrown')
  t.same((await listBuilds(config)).map((b) => b.name), ['30'])

  ac.abort()
  await ingestChild(ctx)(stickOf(dir, [await sampleBuild(dir, '32')], { key: keys.ed }), ac.signal)
  t.same((await listBuilds(config)).map((b) => b.name), ['30'], 'stopping: no new ingest starts')
})

t.test('stopping while the ingest waits for the store lock: it ends by itself, nothing published', async (t) => {
  const keys: Keys = makeKeys()
  t.teardown(() => disposeKeys(keys))
  const dir = t.testdir({})
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const logs: string[] = []
  const ctx = watchContext(config, logs)
  const stick = stickOf(dir, [await sampleBuild(dir, '33')], { key: keys.ed })
  let release = (): void => {}
  let holding = (): void => {}
  const held = new Promise<void>((resolve) => { holding = resolve })
  const holder = withStoreLock(config, { wait: false }, () => new Promise<void>((resolve) => { release = resolve; holding() }))
  await held
  const ac = new AbortController()
  const done = ingestChild(ctx)(stick, ac.signal)
  // The child is past its checks (step 4) and next waits for the lock.
  for (let i = 0; i < 600; i++) {
    const st = await readStatus(join(config.root, 'state'))
    if (st.running.some((r) => r.step >= 4)) break
    await sleep(50)
  }
  await sleep(500)
  ac.abort()
  await done
  release()
  await holder
  t.match(logs, [/ended with exit status \d+/], 'it exited by itself (its flock stopped too), not by SIGKILL')
  t.same(await listBuilds(config), [])
})
