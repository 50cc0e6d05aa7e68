import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import Bunzip from 'seek-bzip'
import tar from 'tar-stream'
import { unpackBuild, type UnpackOptions } from '../src/unpack.js'
import { EXT, compressFile, makeTreeTar, type Compressor } from './lib/make-archive.js'
import { readFattr, readModel, walkServed, type DiskEntry, type ModelEntry } from './lib/read-tree.js'

const TYPE_BITS: Record<ModelEntry['type'], number> = {
  file: 0o100000, directory: 0o040000, symlink: 0o120000, 'character-device': 0o020000, 'block-device': 0o060000, fifo: 0o010000,
}
const fullMode = (m: ModelEntry): number => m.type === 'symlink' ? 0o120777 : TYPE_BITS[m.type] | m.perm
const isDev = (m: ModelEntry): boolean => m.type === 'character-device' || m.type === 'block-device'
const sha1 = (s: string): string => createHash('sha1').update(Buffer.from(s, 'latin1')).digest('hex')
const EMPTY = sha1('')
const show = (p: string): string => JSON.stringify(Buffer.from(p, 'latin1').toString())

/** On disk the tree is harmless whatever the archive says: no setuid, no devices, owner-only modes. */
const checkSafeOnDisk = (t: Test, disk: Map<string, DiskEntry>, model: Map<string, ModelEntry>, backend: string): void => {
  const bad: string[] = []
  for (const [p, d] of disk) {
    const m = model.get(p)
    const type = d.mode & 0o170000
    const want = m?.type === 'directory' ? 0o040700
      : m?.type === 'symlink' ? (backend === 'fakeroot' ? 0o120777 : 0o100400)
        : m?.type === 'file' && (m.perm & 0o111) !== 0 ? 0o100700 : 0o100600
    if (d.mode !== want) bad.push(`${show(p)} ${d.mode.toString(8)} (want ${want.toString(8)}, type ${type.toString(8)})`)
  }
  t.same(bad, [], 'on-disk modes are safe')
}

/** Every served name matches the archive: type, owner, full mode, devices, link target, content, mtime, hardlinks. */
const checkServed = (t: Test, seen: Map<string, DiskEntry>, model: Map<string, ModelEntry>, stats?: Map<string, string>): void => {
  t.same([...seen.keys()].sort(), [...model.keys()].sort(), 'served names = archive names')
  const bad: string[] = []
  const inodes = new Map<number, number>()
  for (const [p, m] of model) {
    const d = seen.get(p)
    if (d === undefined) continue
    let mode: number, uid: number, gid: number, dev: [number, number]
    if (stats !== undefined) {
      const f = /^([0-7]+) (\d+),(\d+) (\d+):(\d+)$/.exec(stats.get(p) ?? '')
      if (f === null) { bad.push(`${show(p)}: no or bad %stat "${stats.get(p)}"`); continue }
      mode = parseInt(f[1] ?? '', 8); uid = Number(f[4]); gid = Number(f[5]); dev = [Number(f[2]), Number(f[3])]
    } else {
      mode = d.mode; uid = d.uid; gid = d.gid; dev = d.dev
    }
    const want = { mode: fullMode(m), uid: m.uid, gid: m.gid, dev: isDev(m) ? [m.devmajor, m.devminor] : [0, 0] }
    if (mode !== want.mode || uid !== want.uid || gid !== want.gid || dev[0] !== want.dev[0] || dev[1] !== want.dev[1]) {
      bad.push(`${show(p)}: ${mode.toString(8)} ${dev.join(',')} ${uid}:${gid}, want ${want.mode.toString(8)} ${want.dev.join(',')} ${want.uid}:${want.gid}`)
    }
    const content = m.type === 'file' ? m.sha1
      : m.type === 'symlink' ? (stats === undefined ? m.linkname : sha1(m.linkname))
        : m.type === 'directory' ? '' : EMPTY
    if (d.content !== content) bad.push(`${show(p)}: content ${d.content} want ${content}`)
    if (d.mtime !== m.mtime) bad.push(`${show(p)}: mtime ${d.mtime} want ${m.mtime}`)
    const ino = inodes.get(m.inode)
    if (ino === undefined) inodes.set(m.inode, d.ino)
    else if (ino !== d.ino) bad.push(`${show(p)}: not hardlinked to its group`)
  }
  t.equal(new Set(inodes.values()).size, inodes.size, 'different archive inodes are different files')
  t.same(bad, [], 'every entry matches the archive')
}

const dir = t.testdir({})
/** What holds the process open (timers aside); before any unpack, tap's and tsx's own: compared at the end. */
const held = (): string[] => process.getActiveResourcesInfo().filter((r) => r !== 'Timeout')
const heldAtStart = held().length
const tars = makeTreeTar(dir, 'os')
// tar-stream decodes pax names as UTF-8 (lossy for non-UTF-8 names), so the
// model comes from the GNU-format tar of the same tree for both.
const model = await readModel(tars.gnu)

t.test('the test tree has what the proof needs', async (t) => {
  const m = model
  t.equal(m.get('bin/su')?.perm, 0o4755)
  t.equal(m.get('dev/big')?.devminor, 300)
  t.equal(m.get('etc/shadow')?.perm, 0)
  t.equal(m.get('bin/a')?.inode, m.get('bin/c')?.inode)
  t.ok(m.has('names/latin\xff\xfe') && m.has('names/new\nline') && m.has('names/dev-disk-by\\x2dlabel-ROOT.swap'))
  t.ok([...m.keys()].some((p) => p.length > 100), 'a path over 100 bytes')
  t.equal(m.get('')?.perm, 0o750, 'the tree root has its own entry')
})

const cases: [Compressor, 'gnu' | 'posix', UnpackOptions['decoder']][] = [
  ['bzip2', 'gnu', 'native'], ['bzip2', 'gnu', 'js'], ['pbzip2', 'gnu', 'native'], ['pbzip2', 'gnu', 'js'],
  ['lbzip2', 'gnu', 'native'], ['lbzip2', 'gnu', 'js'], ['xz', 'gnu', 'auto'], ['lzma', 'gnu', 'auto'], ['xz', 'posix', 'auto'],
]
for (const [how, format, decoder] of cases) {
  const tarball = compressFile(tars[format], how, join(dir, `${how}-${format}.${EXT[how]}`))
  const md5 = createHash('md5').update(readFileSync(tarball)).digest('hex')
  for (const backend of ['fake-super', 'fakeroot'] as const) {
    t.test(`${how} (${format} tar, ${decoder} decoder) round-trips with ${backend}`, async (t) => {
      const out = join(dir, `out-${how}-${format}-${decoder}-${backend}`)
      const events: number[] = []
      const r = await unpackBuild({ tarball, dest: out, backend, decoder, expectedMd5: md5, build: 'b1', onProgress: (e) => events.push(e.bytesDone) })
      t.equal(r.root, join(out, 'root'))
      t.equal(r.md5, md5)
      t.equal(r.entries, model.size)
      t.equal(r.bytes, 3000000 + 26 + 9 + 6 + 7 + 7 + 18 + 5 + 5, 'content bytes once per inode')
      t.same(r.warnings, [])
      t.equal(r.pristine, undefined)
      t.same(readdirSync(out).sort(), ['ownership.' + (backend === 'fakeroot' ? 'fakeroot' : 'fattr'), 'root'], 'only root and the ownership file remain')
      t.equal(r.ownership, join(out, backend === 'fakeroot' ? 'ownership.fakeroot' : 'ownership.fattr'))
      t.equal(events.at(-1), readFileSync(tarball).length, 'progress ends at the tarball size')
      const onDisk = walkServed(out, r.root)
      checkSafeOnDisk(t, onDisk, model, backend)
      if (backend === 'fakeroot') checkServed(t, walkServed(out, r.root, r.ownership), model)
      else checkServed(t, onDisk, model, readFattr(r.root))
    })
  }
}

t.test('seek-bzip single-stream would lose entries of a pbzip2 archive; the js decoder gets them all', async (t) => {
  const tarball = join(dir, 'pbzip2-gnu.tar.bz2')
  const single = Bunzip.decode(readFileSync(tarball)) ?? Buffer.alloc(0)
  let seen = 0
  const ex = tar.extract({ filenameEncoding: 'latin1' } as Parameters<typeof tar.extract>[0])
  ex.on('entry', (_h, stream, next) => { seen++; stream.on('error', () => {}); stream.resume(); next() })
  ex.on('error', () => {})
  await new Promise<void>((resolve) => { ex.on('close', resolve); ex.end(single) })
  t.ok(seen < model.size, `first stream only: ${seen} of ${model.size} entries`)
  const r = await unpackBuild({ tarball, dest: join(dir, 'pbzip2-js-count'), backend: 'fake-super', decoder: 'js' })
  t.equal(r.entries, model.size, 'all entries with the multi-stream worker')
})

t.test('versions/pristine: the first pristine tree is served, the rest dropped', async (t) => {
  const tarball = compressFile(makeTreeTar(dir, 'pristine').gnu, 'xz', join(dir, 'pristine.tar.xz'))
  for (const backend of ['fake-super', 'fakeroot'] as const) {
    const out = join(dir, `pristine-${backend}`)
    const r = await unpackBuild({ tarball, dest: out, backend })
    t.equal(r.pristine, 'versions/pristine/aa1')
    t.equal(r.entries, 5, 'root, etc, etc/issue, boot, boot/issue-link')
    t.equal(r.bytes, 6)
    t.equal(readFileSync(join(r.root, 'etc/issue'), 'utf8'), 'first\n')
    t.notOk(existsSync(join(out, 'tree')), 'the rest is gone')
    const seen = backend === 'fakeroot' ? walkServed(out, r.root, r.ownership) : walkServed(out, r.root)
    t.same([...seen.keys()].sort(), ['', 'boot', 'boot/issue-link', 'etc', 'etc/issue'])
    t.equal(seen.get('boot/issue-link')?.ino, seen.get('etc/issue')?.ino, 'hardlink kept')
    t.equal(seen.get('')?.mtime, Date.UTC(2021, 2, 4, 5, 6, 7) / 1000, 'root mtime from the pristine dir entry')
    if (backend === 'fakeroot') {
      t.equal(seen.get('')?.mode, 0o40711)
      t.equal(seen.get('')?.gid, 10)
      t.equal(seen.get('etc/issue')?.nlink, 2)
    } else {
      t.equal(readFattr(r.root).get(''), '40711 0,0 0:10', 'root ownership from the pristine dir entry')
    }
  }
})

t.test('file capabilities (GNU tar --xattrs) are kept for fake-super clients', async (t) => {
  const src = join(dir, 'cap-src')
  execFileSync('mkdir', ['-p', src])
  execFileSync('cp', ['/bin/true', join(src, 'ping')])
  execFileSync('setcap', ['cap_net_raw+ep', join(src, 'ping')])
  const hex = (file: string, name: string): string =>
    /=0x([0-9a-f]+)/.exec(execFileSync('getfattr', ['-n', name, '-e', 'hex', file]).toString())?.[1] ?? 'none'
  const want = hex(join(src, 'ping'), 'security.capability')
  const plain = join(dir, 'cap.tar')
  execFileSync('tar', ['--xattrs', '--xattrs-include=security.capability', '--format=posix', '-cf', plain, '-C', src, '.'])
  const tarball = compressFile(plain, 'xz', join(dir, 'cap.tar.xz'))
  const fs = await unpackBuild({ tarball, dest: join(dir, 'cap-fs'), backend: 'fake-super' })
  t.equal(hex(join(fs.root, 'ping'), 'user.rsync.security.capability'), want, 'user.rsync.security.capability holds the capability')
  t.same(fs.warnings, [])
  const fr = await unpackBuild({ tarball, dest: join(dir, 'cap-fr'), backend: 'fakeroot' })
  t.match(fr.warnings, [/file capabilities of 1 files are not kept with the fakeroot backend/])
})

t.test('peak memory stays bounded whatever the archive size', async (t) => {
  // Measured on the built code (dist/, as installed; `npm test` builds first) in a child process.
  const unpackJs = new URL('../dist/unpack.js', import.meta.url)
  if (!existsSync(unpackJs)) {
    t.fail(`${unpackJs.pathname} is missing: run "npx tsc -b" first (npm test does)`)
    return
  }
  const peak = (name: string, make: string, decoder: string): { bytes: number, maxRSS: number } => {
    execFileSync('sh', ['-c', make], { cwd: dir })
    const script = `const { unpackBuild } = await import(${JSON.stringify(unpackJs.href)})
      const r = await unpackBuild({ tarball: ${JSON.stringify(join(dir, name))}, dest: ${JSON.stringify(join(dir, `${name}.out`))}, backend: 'fake-super', decoder: '${decoder}' })
      const { readFileSync } = await import('node:fs')
      const hwm = Number(/^VmHWM:\\s+(\\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1])
      console.log(JSON.stringify({ bytes: r.bytes, maxRSS: hwm }))`
    // `env -i`: tap adds its own loaders to NODE_OPTIONS of every child; they would count against it.
    // VmHWM, not getrusage's maxRSS: Linux carries the parent's peak across exec into maxRSS, so the
    // child read the test runner's own size (122 MB for all three archives when this file ran whole).
    const out = JSON.parse(execFileSync('env', ['-i', `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, process.execPath, '--input-type=module', '-e', script],
      { maxBuffer: 1 << 20 }).toString()) as { bytes: number, maxRSS: number }
    rmSync(join(dir, `${name}.out`), { recursive: true })
    return out
  }
  const MB = 1024 * 1024
  const small = peak('mem-64.tar.xz', 'truncate -s 64M zeros && head -c 4000000 /dev/urandom > random && tar -cf - zeros random | xz -0 -T1 > mem-64.tar.xz', 'auto')
  const large = peak('mem-256.tar.xz', 'truncate -s 256M zeros && tar -cf - zeros random | xz -0 -T1 > mem-256.tar.xz', 'auto')
  const js = peak('mem-js.tar.bz2', 'truncate -s 96M zeros && tar -cf - zeros random | bzip2 -9 > mem-js.tar.bz2', 'js')
  t.equal(small.bytes, 64 * MB + 4000000)
  t.equal(large.bytes, 256 * MB + 4000000)
  t.equal(js.bytes, 96 * MB + 4000000)
  // Bounded means the peak does not follow the data: 192 MB more archive may move it by V8's heap
  // sizing noise (16 MB seen on CI), never by a share of the data. A quarter of the extra data, 48 MB,
  // is far above that noise and far below what buffering any part of the archive would add.
  const extra = (large.bytes - small.bytes) / 1024
  t.ok(large.maxRSS - small.maxRSS < extra / 4,
    `4x the data, peak does not follow it: ${small.maxRSS >> 10} MB -> ${large.maxRSS >> 10} MB (limit +${extra / 4 >> 10} MB)`)
  for (const [what, r] of [['xz', large], ['seek-bzip worker', js]] as const) {
    t.ok(r.maxRSS < 150 * 1024, `${what}: peak RSS ${r.maxRSS >> 10} MB < 150 MB`)
  }
})

t.test('no decoder thread or process outlives its unpack', async (t) => {
  // Workers are stopped asynchronously: wait a little (bounded) for them to be gone.
  for (let i = 0; i < 100 && held().length > heldAtStart; i++) await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(held().length, heldAtStart, `resources still held: ${held().join(', ')}`)
})
