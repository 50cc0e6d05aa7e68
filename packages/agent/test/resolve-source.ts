import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, closeSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { printableLabel, resolveSource } from '../src/resolve-source.js'
import { parseMountInfo } from '../src/mount-info.js'
import { attachLoop, isMounted, makeExt4Image, makeFatImage } from '../../../test/lib/stick-image.js'
import type { Level } from '@xs-rsync/core'

const mountAt = (dir: string) =>
  parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).find((m) => m.mountPoint === dir)

const collect = () => {
  const lines: string[] = []
  return { lines, log: (level: Level, msg: string) => { lines.push(`${level}: ${msg}`) } }
}

t.test('printableLabel: no control characters from the stick into the log', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['plain', 'NOC-70', 'NOC-70'],
    ['newline', 'a\nDONE: forged', 'a?DONE: forged'],
    ['tab and escape', 'tab\tesc\x1b[31m', 'tab?esc?[31m'],
    ['unicode separators and marks', 'line\u2028sep\u200e', 'line?sep?'],
    ['long', 'x'.repeat(100), 'x'.repeat(40)],
  ]
  for (const [name, raw, want] of cases) t.equal(printableLabel(raw), want, name)
})

t.test('folders', async (t) => {
  const dir = t.testdir({
    stick: { 'xs-xobuilds': { 'manifest.sha1': '' } },
    empty: { 'README.txt': 'no builds here' },
    linked: { 'xs-xobuilds': t.fixture('symlink', '../stick/xs-xobuilds') },
    file: 'x',
  })
  const base = join(dir, 'mnt')
  const r = await resolveSource(join(dir, 'stick'), { mountBase: base })
  t.equal(r.buildsDir, join(dir, 'stick', 'xs-xobuilds'))
  t.equal(r.device, undefined)
  t.equal(r.shortNamesUpperCase, false)
  await r.release()
  t.equal((await resolveSource(join(dir, 'stick', 'xs-xobuilds'), { mountBase: base })).buildsDir,
    join(dir, 'stick', 'xs-xobuilds'), 'the builds folder itself')
  t.equal((await resolveSource(join(dir, 'empty'), { mountBase: base })).buildsDir, null, 'no builds: null')
  await t.rejects(resolveSource(join(dir, 'linked', 'xs-xobuilds'), { mountBase: base }),
    { code: 'E_MANIFEST', message: /symbolic link/ }, 'a symlink named xs-xobuilds is refused')
  await t.rejects(resolveSource(join(dir, 'linked'), { mountBase: base }), { code: 'E_MANIFEST' })
  await t.rejects(resolveSource(join(dir, 'nope'), { mountBase: base }), { code: 'E_NOT_FOUND', message: /nope/ })
  await t.rejects(resolveSource(join(dir, 'file'), { mountBase: base }),
    { code: 'E_NOT_FOUND', message: /neither a folder nor a block device/ })
})

t.test('ext4 device: mounted read-only under mountBase, released', async (t) => {
  const dir = t.testdir({})
  const dev = attachLoop(t, makeExt4Image(join(dir, 's.img'), { 'xs-xobuilds/os1.name': 'os1\n' }, { label: 'NOC' }))
  const base = join(dir, 'run', 'xs-rsync')
  const { lines, log } = collect()
  const r = await resolveSource(dev, { mountBase: base, log })
  t.equal(r.device, dev)
  t.equal(r.fsType, 'ext4')
  t.equal(r.label, `${dev} (label "NOC")`)
  t.ok(r.buildsDir?.startsWith(base + '/'), 'mounted under mountBase')
  t.equal(readFileSync(join(r.buildsDir ?? '', 'os1.name'), 'utf8'), 'os1\n')
  const m = mountAt(join(r.buildsDir ?? '', '..'))
  t.ok(m, 'listed in mountinfo')
  for (const o of ['ro', 'nosuid', 'nodev', 'noexec']) t.ok(m?.options.includes(o), `mounted ${o}`)
  await r.release()
  await r.release()
  t.notOk(isMounted(dev), 'unmounted after release')
  t.same(readdirSync(base), [], 'mount folder removed')
  t.match(lines, [/^info: Mounted .*read-only at /])
  t.equal(lines.length, 1, 'a clean unmount is silent (the caller\'s final line stays last)')
})

t.test('device without builds: buildsDir null, still released', async (t) => {
  const dir = t.testdir({ real: {}, mnt: t.fixture('symlink', 'real') })
  const dev = attachLoop(t, makeExt4Image(join(dir, 's.img'), { 'photos/a.jpg': 'x' }))
  const r = await resolveSource(dev, { mountBase: join(dir, 'mnt') }) // through a symlink
  t.equal(r.buildsDir, null)
  t.ok(isMounted(dev))
  await r.release()
  t.notOk(isMounted(dev))
  t.same(readdirSync(join(dir, 'real')), [])
})

t.test('failure after mounting unmounts (two builds folders)', async (t) => {
  const dir = t.testdir({})
  const dev = attachLoop(t, makeExt4Image(join(dir, 's.img'), { 'xs-xobuilds/a': '', 'XS-XOBUILDS/b': '' }))
  const base = join(dir, 'mnt')
  await t.rejects(resolveSource(dev, { mountBase: base }),
    { code: 'E_MANIFEST', message: /XS-XOBUILDS, xs-xobuilds/ })
  t.notOk(isMounted(dev), 'unmounted on the failure path')
  t.same(readdirSync(base), [], 'mount folder removed')
})

t.test('already mounted elsewhere: that mount is used and left alone', async (t) => {
  const dir = t.testdir({ elsewhere: {} })
  const dev = attachLoop(t, makeExt4Image(join(dir, 's.img'), { 'xs-xobuilds/a': 'A' }))
  const where = join(dir, 'elsewhere')
  execFileSync('mount', ['-o', 'ro', dev, where])
  try {
    const { lines, log } = collect()
    const r = await resolveSource(dev, { mountBase: join(dir, 'mnt'), log })
    t.equal(r.buildsDir, join(where, 'xs-xobuilds'))
    t.match(lines.join('\n'), /already mounted at/)
    await r.release()
    t.ok(mountAt(where), 'the existing mount stays')
  } finally {
    execFileSync('umount', [where]) // before t.testdir's own teardown removes the folder
  }
})

t.test('FAT device: fusefat when the kernel has no vfat', async (t) => {
  const kernelVfat = readFileSync('/proc/filesystems', 'utf8').includes('\tvfat\n')
  const dir = t.testdir({})
  const dev = attachLoop(t, makeFatImage(join(dir, 'f.img'), {
    'xs-xobuilds/os1-tree.tar.bz2': 'tarball',
    'xs-xobuilds/manifest.sha256': 'm',
    'xs-xobuilds/a.md5': 'short lower-case name',
  }))
  const base = join(dir, 'mnt')
  const r = await resolveSource(dev, { mountBase: base })
  t.equal(r.fsType, 'vfat')
  t.equal(r.shortNamesUpperCase, !kernelVfat)
  const names = readdirSync(r.buildsDir ?? '').sort()
  t.ok(names.includes('os1-tree.tar.bz2') && names.includes('manifest.sha256'), 'long names shown as written')
  if (!kernelVfat) {
    t.ok(names.includes('A.MD5'), 'fusefat shows an 8.3 name in upper case (documented limitation)')
    t.equal(mountAt(join(r.buildsDir ?? '', '..'))?.fsType, 'fuse.fusefat')
  }
  await r.release()
  t.notOk(isMounted(dev), 'unmounted')
  t.same(readdirSync(base), [])
})

t.test('devices that cannot be read', async (t) => {
  const dir = t.testdir({})
  const wiped = attachLoop(t, makeFatImage(join(dir, 'w.img'), {}))
  writeFileSync(wiped, Buffer.alloc(64 * 1024))
  await t.rejects(resolveSource(wiped, { mountBase: join(dir, 'mnt') }),
    { code: 'E_MOUNT', message: /holds no filesystem/ })

  // blkid still sees ext4, but the kernel refuses it: the mount tool's words are kept.
  const img = makeExt4Image(join(dir, 'c.img'), { 'xs-xobuilds/a': '' })
  const fd = openSync(img, 'r+')
  writeSync(fd, Buffer.alloc(6 * 1024, 0xa5), 0, 6 * 1024, 2048)
  closeSync(fd)
  const broken = attachLoop(t, img)
  const base = join(dir, 'mnt2')
  mkdirSync(base)
  await t.rejects(resolveSource(broken, { mountBase: base }),
    { code: 'E_MOUNT', message: new RegExp(`cannot mount ${broken}: mount: `) })
  t.same(readdirSync(base), [], 'mount folder removed after a failed mount')
})
