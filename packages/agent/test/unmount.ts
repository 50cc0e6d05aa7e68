import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, openSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { mountReadOnly, isMountPoint } from '../src/mount.js'
import { unmount } from '../src/unmount.js'
import { attachLoop, makeExt4Image, makeFatImage } from '../../../test/lib/stick-image.js'
import { silentLog } from '@xs-rsync/core'

t.test('a busy mount: retried, then E_MOUNT with the tool\'s words; freed: unmounted', async (t) => {
  const dir = t.testdir({})
  const dev = attachLoop(t, makeExt4Image(join(dir, 's.img'), { 'xs-xobuilds/a': 'x' }))
  const m = await mountReadOnly(dev, 'ext4', join(dir, 'mnt'), silentLog)
  t.equal(m.method, 'kernel')
  const fd = openSync(join(m.dir, 'xs-xobuilds', 'a'), 'r')
  try {
    await t.rejects(unmount(m, { tries: 3, delayMs: 10 }), { code: 'E_MOUNT', message: /cannot unmount .*busy/i })
    t.ok(await isMountPoint(m.dir), 'still mounted')
  } finally {
    closeSync(fd)
  }
  await unmount(m, { tries: 3, delayMs: 10 })
  t.notOk(await isMountPoint(m.dir))
  t.notOk(existsSync(m.dir), 'folder removed')
})

t.test('a mount that is already gone counts as done', async (t) => {
  const dir = t.testdir({})
  const dev = attachLoop(t, makeFatImage(join(dir, 'f.img'), { a: 'x' }))
  const m = await mountReadOnly(dev, 'vfat', join(dir, 'mnt'), silentLog)
  execFileSync('umount', [m.dir])
  await unmount(m)
  t.notOk(existsSync(m.dir))
})
