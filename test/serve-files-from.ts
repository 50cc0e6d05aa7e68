// `rsync --files-from=LIST rsync://XS/build-NAME/root/ DEST` (fetch a chosen
// set of files, as a client updating part of a tree does) through both ways
// the school server serves: the socket-activated unit as setup installs it
// (unprivileged, the unit's capabilities) and `xs-rsync serve`. It needs
// `use chroot = yes`; with `use chroot = no` rsync 3.5 fails every file with
// "file has vanished", which the control case shows. `serve` also relays the
// daemon's own log to the configured syslog socket (tag xs-rsyncd).
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Backend, XsConfig } from '@xs-rsync/core'
import { makeTreeTar } from '../packages/publisher/test/lib/make-archive.js'
import { handStoreTo, startSocketActivated } from './lib/classroom-load.js'
import { startRsyslog } from './lib/rsyslog.js'
import { addPackedBuild, testStore } from './lib/test-store.js'
import { startServe } from './lib/start-serve.js'
import { xsRsync } from './lib/xs-cli.js'

const TEMPLATE = join(import.meta.dirname, '..', 'packages', 'xs-rsync', 'share', 'rsyncd.conf.in')
const LIST = ['etc/hostname', 'bin/a', 'ro/sub/file']

/** A store with build 44 published from the os tree, handed to nobody as setup does. */
const store = (dir: string, backend: Backend, template = TEMPLATE): XsConfig => {
  const config = { ...testStore(dir, backend), rsyncdTemplate: template }
  addPackedBuild(config, 'os44', '44', makeTreeTar(dir, 'os').gnu, 'bzip2')
  handStoreTo(config)
  const r = xsRsync(config, ['refresh', '-q'])
  if (r.status !== 0) throw new Error(`refresh: ${r.stderr}`)
  return config
}

const filesFrom = (port: number, dir: string): { status: number | null, stderr: string, dest: string } => {
  const list = join(dir, 'list')
  writeFileSync(list, LIST.join('\n') + '\n')
  const dest = join(dir, `dest-${port}`)
  const r = spawnSync('rsync', ['-a', '--timeout=60', `--files-from=${list}`, `rsync://127.0.0.1:${port}/build-44/root/`, dest],
    { encoding: 'utf8', timeout: 120_000 })
  return { status: r.status, stderr: r.stderr, dest }
}

/** The installed unit's ExecStart under a socket activator, as its user with its capabilities. */
const socketActivated = async (t: Test, config: XsConfig): Promise<number> => {
  const { port, activator } = await startSocketActivated(config)
  t.teardown(() => { activator.kill('SIGTERM') })
  return port
}

for (const backend of ['fake-super', 'fakeroot'] as Backend[]) {
  t.test(`${backend}: --files-from through the socket-activated unit`, async (t) => {
    const dir = t.testdir({})
    const config = store(dir, backend)
    t.match(readFileSync(config.rsyncdConf, 'utf8'), /^use chroot = yes$/m)
    const r = filesFrom(await socketActivated(t, config), dir)
    t.equal(r.status, 0, r.stderr)
    t.equal(readFileSync(join(r.dest, 'etc/hostname'), 'utf8'), 'hostname\n')
    t.equal(readFileSync(join(r.dest, 'bin/a'), 'utf8'), 'linked\n')
    t.equal(readFileSync(join(r.dest, 'ro/sub/file'), 'utf8'), 'in ro\n')
  })
}

t.test('control: the same pull fails under "use chroot = no" (why the config chroots)', async (t) => {
  const dir = t.testdir({})
  const template = join(dir, 'nochroot.conf.in')
  writeFileSync(template, readFileSync(TEMPLATE, 'utf8').replace(/^use chroot = yes$/m, 'use chroot = no'))
  const config = store(dir, 'fake-super', template)
  const r = filesFrom(await socketActivated(t, config), dir)
  t.equal(r.status, 24, r.stderr)
  t.match(r.stderr, /file has vanished/)
})

t.test('xs-rsync serve: --files-from works, and the daemon logs to the configured syslog socket', async (t) => {
  const dir = t.testdir({})
  const config = store(dir, 'fake-super')
  const syslog = await startRsyslog(t, dir)
  // 60 s: under a loaded CI (two test files at once) 20 s was once not enough
  const served = await startServe({ config, timeoutMs: 60_000, logArgs: ['--syslog-socket', syslog.socket] })
  t.teardown(served.stop)
  const { port } = served
  // the daemon's log FIFO, from its command line
  const daemonArgs = spawnSync('pgrep', ['-a', '-f', '--', `--port=${port}`], { encoding: 'utf8' }).stdout
  const fifo = /--dparam=log file=(\S+)/.exec(daemonArgs)?.[1] ?? ''
  t.match(fifo, /\/xs-rsync-serve-[^/]+\/rsyncd\.log$/, daemonArgs)
  const r = filesFrom(port, dir)
  t.equal(r.status, 0, r.stderr + served.output())
  t.equal(readFileSync(join(r.dest, 'bin/a'), 'utf8'), 'linked\n')
  const lines = await syslog.waitFor((l) => l.some((x) => /^user\.\w+ xs-rsyncd\[\d+\]: \[\d+\] rsync on build-44\/root\/ from /.test(x)))
  t.ok(lines.some((x) => /^user\.\w+ xs-rsyncd\[\d+\]: \[\d+\] connect from /.test(x)), 'each connection is in the user log')
  for (let i = 0; i < 100 && !/rsync daemon: \[\d+\] rsync on build-44/.test(served.output()); i++) await new Promise((resolve) => setTimeout(resolve, 50))
  t.match(served.output(), /rsync daemon: \[\d+\] rsync on build-44\/root\/ from/, 'and on the terminal')
  t.equal(await served.stop(), 0, served.output())
  t.notOk(existsSync(fifo), `the log FIFO ${fifo} is gone`)
})
