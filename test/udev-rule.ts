// The udev rule, checked with the real udevadm and real rules (60-persistent-
// storage runs blkid on a real loop device), inside `unshare -m` with tmpfs
// /dev and /run so nothing on the host changes. Loop devices are not USB:
// a test-only rule sets ID_BUS=usb first. udevadm test exits 0 even on rule
// errors, so its output is searched for them.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { attachLoop, makeFatImage } from './lib/stick-image.js'

const RULE = join(import.meta.dirname, '..', 'udev', '90-xs-rsync.rules')

interface Case { fakeUsb: boolean, action: 'add' | 'remove' }

/** Run udevadm test for `device` in a private mount namespace; returns its output. */
const udevTest = (device: string, c: Case): string => {
  const k = basename(device)
  const [major, minor] = readFileSync(`/sys/class/block/${k}/dev`, 'utf8').trim().split(':')
  const script = [
    'set -e',
    'mount -t tmpfs tmpfs /run',
    'mount -t tmpfs tmpfs /dev',
    `mknod /dev/${k} b ${major} ${minor}`,
    'mkdir -p /run/udev/rules.d',
    c.fakeUsb ? `echo 'KERNEL=="${k}", ENV{ID_BUS}="usb"' > /run/udev/rules.d/10-fake-usb.rules` : ':',
    `cp "$1" /run/udev/rules.d/90-xs-rsync.rules`,
    `udevadm test --action=${c.action} /sys/class/block/${k} 2>&1`,
  ].join('\n')
  return execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', RULE],
    { encoding: 'utf8', timeout: 60_000 })
}

const prop = (out: string, key: string): string | undefined =>
  out.split('\n').find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1)

const ruleErrors = (out: string): string[] =>
  out.split('\n').filter((l) => /90-xs-rsync\.rules:\d+/.test(l))

t.test('USB stick with a filesystem: the ingest unit is wanted', async (t) => {
  const dev = attachLoop(t, makeFatImage(join(t.testdir({}), 'f.img'), { 'xs-xobuilds/a': 'x' }))
  const out = udevTest(dev, { fakeUsb: true, action: 'add' })
  t.match(out, /Reading rules file: \/run\/udev\/rules.d\/90-xs-rsync.rules/, 'our rule was read')
  t.same(ruleErrors(out), [], 'no errors in the rule file')
  t.equal(prop(out, 'ID_FS_USAGE'), 'filesystem', 'blkid ran on the real device')
  t.match(prop(out, 'TAGS') ?? '', /:systemd:/)
  const wants = prop(out, 'SYSTEMD_WANTS')
  t.equal(wants, `xs-rsync-ingest@${basename(dev)}.service`)
  // The instance is the kernel name as systemd escapes it, so the unit's
  // %I (unescaped) is that name again and ExecStart gets /dev/<name>.
  const esc = (...a: string[]): string => execFileSync('systemd-escape', a, { encoding: 'utf8' }).trim()
  t.equal(wants, esc('--template=xs-rsync-ingest@.service', basename(dev)))
  t.equal(esc('--unescape', 'sdb1'), 'sdb1', 'xs-rsync-ingest@sdb1.service ingests /dev/sdb1')
})

t.test('nothing is started for other devices and events', async (t) => {
  const dir = t.testdir({})
  const dev = attachLoop(t, makeFatImage(join(dir, 'f.img'), { a: 'x' }))
  const notUsb = udevTest(dev, { fakeUsb: false, action: 'add' })
  t.equal(prop(notUsb, 'SYSTEMD_WANTS'), undefined, 'not on USB')
  t.same(ruleErrors(notUsb), [])
  t.equal(prop(udevTest(dev, { fakeUsb: true, action: 'remove' }), 'SYSTEMD_WANTS'), undefined, 'removal')
  const blank = attachLoop(t, makeFatImage(join(dir, 'b.img'), {}))
  writeFileSync(blank, Buffer.alloc(64 * 1024))
  const noFs = udevTest(blank, { fakeUsb: true, action: 'add' })
  t.equal(prop(noFs, 'ID_FS_USAGE'), undefined)
  t.equal(prop(noFs, 'SYSTEMD_WANTS'), undefined, 'no filesystem')
})

t.test('the error check catches a broken rule', async (t) => {
  // Guard against a test that cannot fail: udevadm does report rule errors this way.
  const dir = t.testdir({ 'bad.rules': 'ACTION=="add", BOGUS=="x"\n' })
  const dev = attachLoop(t, makeFatImage(join(dir, 'f.img'), {}))
  const k = basename(dev)
  const out = execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', [
    'mount -t tmpfs tmpfs /run', 'mkdir -p /run/udev/rules.d',
    'cp "$1" /run/udev/rules.d/90-xs-rsync.rules',
    `udevadm test --action=add /sys/class/block/${k} 2>&1`,
  ].join('\n'), 'sh', join(dir, 'bad.rules')], { encoding: 'utf8', timeout: 60_000 })
  t.match(ruleErrors(out), [/Invalid key 'BOGUS'/])
})
