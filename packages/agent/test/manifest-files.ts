import t from 'tap'
import { mkfifoSync } from './lib/mkfifo.js'
import { symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { listStickDir, MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES, readSmallStickFile, readStickManifest, statListedFiles } from '../src/manifest-files.js'

const H = 'a'.repeat(64)

t.test('readStickManifest prefers a signed manifest, then sha256', async (t) => {
  const table: Array<[Record<string, string>, string, boolean]> = [
    [{ 'manifest.sha1': 'x', 'manifest.sha256': 'y' }, 'manifest.sha256', false],
    [{ 'manifest.sha1': 'x', 'manifest.sha1.sig': 's', 'manifest.sha256': 'y' }, 'manifest.sha1', true],
    [{ 'manifest.sha1': 'x', 'manifest.sha1.sig': 's', 'manifest.sha256': 'y', 'manifest.sha256.sig': 's' }, 'manifest.sha256', true],
    [{ 'manifest.sha1': 'x' }, 'manifest.sha1', false],
  ]
  for (const [files, want, signed] of table) {
    const dir = t.testdir(files)
    const m = await readStickManifest(await listStickDir(dir))
    t.equal(m.manifest.path, join(dir, want), Object.keys(files).join(' '))
    t.equal(m.signature !== undefined, signed)
  }
  const none = t.testdir({ 'README': 'x', 'manifest.md5': 'x' })
  await t.rejects(readStickManifest(await listStickDir(none)), { code: 'E_MANIFEST', message: /no manifest\.sha256 or manifest\.sha1/ })
})

t.test('FAT short names: matched without case only when asked', async (t) => {
  const dir = t.testdir({ 'MANIFEST.SHA1': 'x', 'A.NAME': '44' })
  await t.rejects(readStickManifest(await listStickDir(dir)), { code: 'E_MANIFEST' }, 'exact names by default')
  const stick = await listStickDir(dir, true)
  t.equal((await readStickManifest(stick)).manifest.path, join(dir, 'MANIFEST.SHA1'))
  t.equal(stick.lookup('a.name'), 'A.NAME')
  const two = await listStickDir(t.testdir({ 'a.name': '1', 'A.NAME': '2' }), true)
  t.throws(() => two.lookup('A.name'), { code: 'E_MANIFEST', message: /both match/ })
})

t.test('size limits are checked before reading; no symlinks, fifos or folders', async (t) => {
  const dir = t.testdir({ 'manifest.sha256': 'x'.repeat(MAX_MANIFEST_BYTES + 1), 'manifest.sha256.sig': 's', sub: {} })
  await t.rejects(readStickManifest(await listStickDir(dir)), { code: 'E_MANIFEST', message: /1048577 bytes, more than the 1048576 allowed/ })
  const dir2 = t.testdir({ 'manifest.sha256': 'x', 'manifest.sha256.sig': 's'.repeat(MAX_SIGNATURE_BYTES + 1) })
  await t.rejects(readStickManifest(await listStickDir(dir2)), { code: 'E_SIGNATURE_BAD', message: /more than the 65536 allowed/ })
  const dir3 = t.testdir({ target: 'x' })
  symlinkSync(join(dir3, 'target'), join(dir3, 'manifest.sha1'))
  await t.rejects(readStickManifest(await listStickDir(dir3)), { code: 'E_MANIFEST', message: /symbolic link/ })
  mkfifoSync(join(dir3, 'fifo'))
  await t.rejects(readSmallStickFile(join(dir3, 'fifo'), 10, 'E_MANIFEST'), { code: 'E_MANIFEST', message: /not a regular file/ }, 'fifo: no hang')
})

t.test('statListedFiles: missing / symlink / special refuse; unlisted are ignored and logged', async (t) => {
  const dir = t.testdir({ 'a.name': '44', 'extra.txt': 'not listed', 'manifest.sha256': 'm', 'manifest.sha256.sig': 's', 'manifest.sha1': 'm', sub: {}, target: 'x' })
  symlinkSync(join(dir, 'target'), join(dir, 'link'))
  mkfifoSync(join(dir, 'fifo'))
  const stick = await listStickDir(dir)
  const logs: string[] = []
  const ok = await statListedFiles(stick, [{ name: 'a.name', hash: H }, { name: 'target', hash: H }], (l, m) => logs.push(`${l} ${m}`))
  t.same(ok.files.map((f) => [f.name, f.size]), [['a.name', 2], ['target', 1]])
  t.same(ok.ignored, ['extra.txt', 'fifo', 'link', 'sub'], 'manifests and signatures are not "ignored"')
  t.match(logs.join('\n'), /notice Ignoring .*extra\.txt: not listed in the manifest, not copied/)
  for (const [name, why] of [['missing', /listed in the manifest but missing/], ['link', /a symbolic link/], ['fifo', /a special file/], ['sub', /a folder/]] as const) {
    await t.rejects(statListedFiles(stick, [{ name, hash: H }]), { code: 'E_MANIFEST_MISMATCH', message: why }, name)
  }
})
