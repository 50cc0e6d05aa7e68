// Ctrl-C or SIGTERM during an ingest is one outcome wherever it lands: real
// signals sent to a real CLI process, once while the stick is copied and once
// while the build is unpacked. Each time: the line "FAILED: interrupted:
// nothing was published (received SIG...)", exit 130, E_INTERRUPTED in the
// status, never "internal error"; nothing published, no staging left.
// refresh and publish stopped during an unpack say which builds they
// published before the signal and which not; the builds served before stay.
import t, { type Test } from 'tap'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, truncateSync, writeFileSync, writeSync } from 'node:fs'
import { basename, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ERROR_TABLE, readJobHistory, type JobRecord } from '@xs-rsync/core'
import { readStatus } from '@xs-rsync/agent'
import { listBuilds } from '@xs-rsync/publisher'
import { disposeKeys, makeKeys, sampleBuild, stagingLeft, stickOf, testConfig, writeKeyring, type Keys } from '../packages/agent/test/lib/ingest-fixture.js'
import type { BuildFiles } from '../packages/agent/test/lib/stick.js'
import { writeConfigFile } from './lib/device-ingest.js'
import { XS_BIN } from './lib/xs-cli.js'

let keys: Keys
t.before(() => { keys = makeKeys() })
t.teardown(() => disposeKeys(keys))

/** A build whose tarball is small to copy and long to unpack: GNU tar of `mib` MiB of zeros (a sparse file), bzip2 -1. */
const slowUnpackBuild = (dir: string, name: string, mib: number): BuildFiles => {
  const src = join(dir, `src-${name}`)
  mkdirSync(src)
  writeFileSync(join(src, 'zeros.img'), '')
  truncateSync(join(src, 'zeros.img'), mib * 1024 * 1024)
  const tarball = join(dir, `os${name}-tree.tar.bz2`)
  execFileSync('sh', ['-c', `tar -C '${src}' -cf - zeros.img | bzip2 -1 > '${tarball}'`])
  const md5File = `${tarball}.md5`
  writeFileSync(md5File, `${createHash('md5').update(readFileSync(tarball)).digest('hex')}  os${name}-tree.tar.bz2\n`)
  const contentsFile = join(dir, `os${name}.contents`)
  writeFileSync(contentsFile, 'zeros.img\n')
  const nameFile = join(dir, `os${name}.name`)
  writeFileSync(nameFile, `${name}\n`)
  return { tarball, md5File, contentsFile, nameFile }
}

/**
 * `xs-rsync ingest STICK`; when its terminal output matches `when`, the
 * process is stopped, sent `sig`, and continued (so the signal lands right
 * there). Resolves with the exit code and the output.
 */
const interruptAt = async (configFile: string, stick: string, when: RegExp, sig: NodeJS.Signals, args = ['ingest', '--config', configFile, '--no-syslog', stick]): Promise<{ code: number | null, stderr: string, sent: boolean }> => {
  const env = { ...process.env }
  delete env.INVOCATION_ID
  delete env.JOURNAL_STREAM
  const child = spawn(process.execPath, [XS_BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  let stderr = ''
  let sent = false
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
    if (!sent && when.test(stderr)) {
      sent = true
      child.kill('SIGSTOP')
      child.kill(sig)
      child.kill('SIGCONT')
    }
  })
  const code = await Promise.race([exited, sleep(240_000, null, { ref: false })])
  if (child.exitCode === null) child.kill('SIGKILL')
  return { code, stderr, sent }
}

const checkInterrupted = async (t: Test, config: ReturnType<typeof testConfig>, r: { code: number | null, stderr: string, sent: boolean }, sig: string): Promise<void> => {
  t.ok(r.sent, `${sig} was sent`)
  t.equal(r.code, ERROR_TABLE.E_INTERRUPTED.exit, `exit 130\n${r.stderr}`)
  const lines = r.stderr.trimEnd().split('\n')
  t.match(lines.at(-1), new RegExp(`^xs-rsync: error: FAILED: interrupted: nothing was published \\(received ${sig}\\)\\. `), 'its own last line')
  t.equal(lines.filter((l) => l.includes('FAILED:')).length, 1, 'one FAILED line')
  t.notMatch(r.stderr, /internal error|Report this/)
  t.match((await readStatus(join(config.root, 'state'))).last, { ok: false, code: 'E_INTERRUPTED', line: /^FAILED: interrupted: nothing was published/ })
  t.same(await listBuilds(config), [], 'nothing published')
  t.same(stagingLeft(config), [], 'no staging left')
}

t.test('SIGINT during the copy', async (t) => {
  const dir = t.testdir({})
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const configFile = writeConfigFile(dir, config, join(dir, 'no-syslog'))
  const b = await sampleBuild(dir, '90')
  // a big .contents file: the copy takes a while
  const fd = openSync(b.contentsFile, 'w')
  for (let i = 0; i < 128; i++) writeSync(fd, randomBytes(1024 * 1024))
  closeSync(fd)
  const stick = stickOf(dir, [b], { key: keys.ed })
  const r = await interruptAt(configFile, stick, /\[7\/8\] Copying/, 'SIGINT')
  t.notMatch(r.stderr, /All \d+ listed files match/, 'stopped before the copy ended')
  await checkInterrupted(t, config, r, 'SIGINT')
})

t.test('SIGTERM during the unpack', async (t) => {
  const dir = t.testdir({ build: {} })
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const configFile = writeConfigFile(dir, config, join(dir, 'no-syslog'))
  const stick = stickOf(dir, [slowUnpackBuild(join(dir, 'build'), '91', 768)], { key: keys.ed })
  const r = await interruptAt(configFile, stick, /All \d+ listed files match the manifest/, 'SIGTERM')
  t.match(r.stderr, /Unpacking build 91/, 'the unpack had started')
  t.notMatch(r.stderr, /Published build 91/, 'stopped before the unpack ended')
  await checkInterrupted(t, config, r, 'SIGTERM')
  t.same(readdirSync(join(config.root, 'xobuilds-packed')), [], 'nothing left in xobuilds-packed')
})

/** Put a build made by slowUnpackBuild into ROOT/xobuilds-packed, as the NOC's files are. */
const packBuild = (dir: string, config: ReturnType<typeof testConfig>, name: string, mib: number): void => {
  const b = slowUnpackBuild(dir, name, mib)
  for (const f of [b.tarball, b.md5File, b.contentsFile, b.nameFile]) renameSync(f, join(config.root, 'xobuilds-packed', basename(f)))
}

const lastJob = async (config: ReturnType<typeof testConfig>): Promise<JobRecord | undefined> =>
  (await readJobHistory(join(config.root, 'state')))[0]

t.test('refresh: SIGTERM while unpacking its second build says which it published and which not', async (t) => {
  const dir = t.testdir({ build: {} })
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const configFile = writeConfigFile(dir, config, join(dir, 'no-syslog'))
  mkdirSync(join(config.root, 'xobuilds-packed'), { recursive: true })
  packBuild(join(dir, 'build'), config, '92', 1)
  t.equal(spawnSync(process.execPath, [XS_BIN, 'refresh', '--config', configFile, '--no-syslog'], { encoding: 'utf8' }).status, 0, 'build 92 served before')
  packBuild(join(dir, 'build'), config, '93', 1)
  packBuild(join(dir, 'build'), config, '94', 768)
  packBuild(join(dir, 'build'), config, '95', 1)
  const r = await interruptAt(configFile, '', /Unpacking build 94/, 'SIGTERM', ['refresh', '--config', configFile, '--no-syslog'])
  t.ok(r.sent, 'SIGTERM was sent')
  t.equal(r.code, ERROR_TABLE.E_INTERRUPTED.exit, `exit 130\n${r.stderr}`)
  t.match(r.stderr, /Published build 93/)
  t.notMatch(r.stderr, /Published build 94/, 'stopped before the unpack ended')
  const lines = r.stderr.trimEnd().split('\n')
  t.equal(lines.at(-1), 'xs-rsync: error: FAILED: interrupted: published build 93 before that; builds 94, 95 not published; ' +
    `the builds served before are still served (received SIGTERM). ${ERROR_TABLE.E_INTERRUPTED.advice}`, 'its own last line, saying what was published')
  t.equal(lines.filter((l) => l.includes('FAILED:')).length, 1, 'one FAILED line')
  t.notMatch(r.stderr, /internal error|Report this/)
  t.match(await lastJob(config), { kind: 'refresh', ok: false, code: 'E_INTERRUPTED', line: /^FAILED: interrupted: published build 93 before that; builds 94, 95 not published/ })
  t.same((await listBuilds(config)).map((b) => b.name), ['92', '93'], 'what was served before, and what it published, stay served')
  t.same(stagingLeft(config), [], 'no staging left')
})

t.test('publish: SIGINT during the unpack: the build was not published, the others stay served', async (t) => {
  const dir = t.testdir({ build: {}, elsewhere: {} })
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const configFile = writeConfigFile(dir, config, join(dir, 'no-syslog'))
  mkdirSync(join(config.root, 'xobuilds-packed'), { recursive: true })
  packBuild(join(dir, 'build'), config, '96', 1)
  t.equal(spawnSync(process.execPath, [XS_BIN, 'refresh', '--config', configFile, '--no-syslog'], { encoding: 'utf8' }).status, 0, 'build 96 served before')
  const b = slowUnpackBuild(join(dir, 'elsewhere'), '97', 768)
  const r = await interruptAt(configFile, '', /Unpacking build 97/, 'SIGINT', ['publish', '--config', configFile, '--no-syslog', b.tarball])
  t.ok(r.sent, 'SIGINT was sent')
  t.equal(r.code, ERROR_TABLE.E_INTERRUPTED.exit, `exit 130\n${r.stderr}`)
  const lines = r.stderr.trimEnd().split('\n')
  t.equal(lines.at(-1), 'xs-rsync: error: FAILED: interrupted: build 97 not published; ' +
    `the builds served before are still served (received SIGINT). ${ERROR_TABLE.E_INTERRUPTED.advice}`, 'its own last line')
  t.equal(lines.filter((l) => l.includes('FAILED:')).length, 1, 'one FAILED line')
  t.match(await lastJob(config), { kind: 'publish', ok: false, code: 'E_INTERRUPTED' })
  t.same((await listBuilds(config)).map((x) => x.name), ['96'])
  t.same(stagingLeft(config), [], 'no staging left')
})
