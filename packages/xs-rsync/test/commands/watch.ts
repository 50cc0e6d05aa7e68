import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import { chmodSync, writeFileSync } from 'node:fs'
import { cannotStart, ingestArgs, ingestChild } from '../../src/commands/watch.js'
import type { CommandContext } from '../../src/command-context.js'
import { startRsyslog } from '../../../../test/lib/rsyslog.js'
import { listBuilds, withStoreLock } from '@xs-rsync/publisher'
import { readStatus, watch } from '@xs-rsync/agent'
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

t.test('cannotStart: names the program and why; missing or not executable is E_TOOL_MISSING', async (t) => {
  const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`spawn /usr/bin/node ${code}`), { code })
  const cases: Array<[string, string, string]> = [
    ['ENOENT', 'E_TOOL_MISSING', 'cannot start the ingest of /dev/sdb1: /usr/bin/node does not exist; reinstall xs-rsync and Node.js'],
    ['EACCES', 'E_TOOL_MISSING', 'cannot start the ingest of /dev/sdb1: /usr/bin/node is not executable (permission denied); reinstall xs-rsync and Node.js'],
    ['ENOEXEC', 'E_TOOL_MISSING', 'cannot start the ingest of /dev/sdb1: /usr/bin/node cannot be run; reinstall xs-rsync and Node.js'],
    ['EAGAIN', 'E_IO', 'cannot start the ingest of /dev/sdb1: /usr/bin/node cannot be run now (EAGAIN: too many processes, or not enough memory)'],
  ]
  for (const [code, want, message] of cases) {
    t.match(cannotStart('/dev/sdb1', '/usr/bin/node', errno(code)), { code: want, message, path: '/usr/bin/node' }, code)
  }
})

t.test('an ingest that cannot be started: a clear FAILED line for that stick, and watch goes on', async (t) => {
  const dir = t.testdir({ 'not-executable': '#!/bin/sh\n' })
  chmodSync(join(dir, 'not-executable'), 0o644)
  writeFileSync(join(dir, 'cli.js'), '')
  const config = testConfig(dir, join(dir, 'keys'))
  const logs: string[] = []
  const ctx = watchContext(config, logs)
  const ac = new AbortController()
  // real spawns that fail: a program that is not there, one without x bit, a CLI script that is gone
  const programs = [
    { node: join(dir, 'no-node'), cli: join(dir, 'cli.js') },
    { node: join(dir, 'not-executable'), cli: join(dir, 'cli.js') },
    { node: process.execPath, cli: join(dir, 'gone', 'xs-rsync.js') },
  ]
  for (const p of programs) await t.rejects(ingestChild(ctx, p)('/dev/sdz1', ac.signal), { code: 'E_TOOL_MISSING' })

  const devices: string[] = []
  let tries = 0
  const done = watch({
    log: (level, msg) => { logs.push(`${level}: ${msg}`) },
    signal: ac.signal,
    lister: { name: 'fake', list: async () => [...devices] },
    hotplug: null,
    hasFilesystem: async () => true,
    pollMs: 20,
    ingest: (device, signal) => ingestChild(ctx, programs[tries++ % programs.length])(device, signal),
  })
  const until = async (what: RegExp): Promise<void> => {
    for (let i = 0; i < 500 && !logs.some((l) => what.test(l)); i++) await sleep(20)
  }
  await until(/Watching for USB sticks/)
  devices.push('/dev/sdx1')
  await until(/sdx1: FAILED/)
  devices.push('/dev/sdy1')
  await until(/sdy1: FAILED/)
  devices.push('/dev/sdz1')
  await until(/sdz1: FAILED/)
  ac.abort()
  await done
  const failed = logs.filter((l) => l.includes('FAILED'))
  t.same(failed, [
    `err: /dev/sdx1: FAILED: a required system tool is missing: cannot start the ingest of /dev/sdx1: ${join(dir, 'no-node')} does not exist; reinstall xs-rsync and Node.js. Install the named tool (see the admin guide), then try again.`,
    `err: /dev/sdy1: FAILED: a required system tool is missing: cannot start the ingest of /dev/sdy1: ${join(dir, 'not-executable')} is not executable (permission denied); reinstall xs-rsync and Node.js. Install the named tool (see the admin guide), then try again.`,
    `err: /dev/sdz1: FAILED: a required system tool is missing: cannot start the ingest of /dev/sdz1: ${join(dir, 'gone', 'xs-rsync.js')} does not exist; reinstall xs-rsync and Node.js. Install the named tool (see the admin guide), then try again.`,
  ], 'one FAILED line per stick, naming what could not be started and why')
  t.notMatch(logs.join('\n'), /internal error|Report this|ended with exit status/)
  t.match(logs.at(-1), /Stopped watching for USB sticks/, 'it kept watching until stopped')
})
