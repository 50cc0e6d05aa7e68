// Threat: a hostile archive (behind a matching md5, as a signed stick would
// carry it). Each archive is built in code and named after the attack. A store
// already serves build b1 through a live daemon; each hostile build goes
// through `refresh` like any other and must be refused with a clear message
// naming the entry: nothing new published, config/links/records/ROOT/tmp
// unchanged, nothing written outside, and b1 still served exactly.
// Oddities that are legal in an OS tree (backslashes, look-alike characters,
// devices, fifos, setuid) are published safely: no device node or setuid bit
// exists on the server's disk, clients still get them.
// The per-entry engine cases live in packages/publisher/test/unpack-security.ts;
// this file proves the same refusals end to end through the store.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { listBuilds, publishLayout, refresh, unpackBuild } from '@xs-rsync/publisher'
import { compressBytes, paxRecords, rawTar, tarHeader, type RawEntry } from '../../packages/publisher/test/lib/make-archive.js'
import { archiveEntries } from '../lib/archive-entries.js'
import { dumpTree } from '../lib/dump-tree.js'
import { listModules, pullBuild } from '../lib/pull-build.js'
import { startServe } from '../lib/start-serve.js'
import { copyPackedBuild, testStore } from '../lib/test-store.js'
import { compareTrees } from '../lib/tree-entry.js'

const dir = t.testdir({ outside: {}, tars: {} })
const outside = join(dir, 'outside')
const config = testStore(dir, 'fake-super')
const layout = publishLayout(config.root)

const file = (name: string, data = 'x', mode = 0o644): RawEntry => ({ name, data: Buffer.from(data), mode })
const dirEntry = (name: string, mode = 0o755): RawEntry => ({ name, type: '5', mode })
/** A UTF-8 name as the byte string the tar header holds. */
const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1')
const base = (issue: string): RawEntry[] => [dirEntry('./'), dirEntry('etc/'), file('etc/issue', issue)]

let n = 0
const xzFile = (data: Uint8Array, ext = 'tar.xz'): string => {
  const f = join(dir, 'tars', `a${n++}.${ext}`)
  writeFileSync(f, ext === 'tar.bz2' ? compressBytes(data, 'bzip2') : compressBytes(data, 'xz'))
  return f
}

let pulls = 0
const pullAndCompare = async (port: number, name: string, tarball: string): Promise<string[]> => {
  const dest = join(dir, `pull-${pulls++}`)
  const r = pullBuild(port, `build-${name}/root`, dest, `${dest}.state`)
  if (r.status !== 0) return [`pull failed ${r.status}: ${r.stderr}`]
  return compareTrees(await archiveEntries(tarball), dumpTree(dest, `${dest}.state`))
}

const snapshot = async (): Promise<unknown> => ({
  conf: readFileSync(config.rsyncdConf, 'utf8'),
  links: readdirSync(layout.builds).sort(),
  trees: readdirSync(layout.trees).sort(),
  tmp: readdirSync(layout.tmp),
  records: await listBuilds(config),
  outside: readdirSync(outside),
})

/** A 64 MiB GNU long-name header, compressed by a pipe (never in this process's memory). */
const gnuLongNameBomb = (): string => {
  const head = join(dir, 'tars', 'longname-head')
  writeFileSync(head, tarHeader({ name: '././@LongLink', type: 'L', size: 64 * 1024 * 1024 }))
  const out = join(dir, 'tars', 'longname-bomb.tar.xz')
  execFileSync('sh', ['-c', `{ cat "$1"; head -c 67108864 /dev/zero | tr '\\0' a; } | xz -0 -T1 > "$2"`, 'sh', head, out])
  return out
}

t.test('hostile archives are refused through the store; b1 stays served', async (t) => {
  const b1 = copyPackedBuild(config, 'os1', 'b1', xzFile(rawTar([...base('one\n'), dirEntry('bin/'), file('bin/su', 'su', 0o4755)])), 'tar.xz')
  t.same((await refresh({ config })).published, ['b1'])
  const b1Copy = join(dir, 'b1.tar.xz')
  writeFileSync(b1Copy, readFileSync(b1.tarball))
  const served = await startServe({ config })
  t.teardown(served.stop)
  t.same(await pullAndCompare(served.port, 'b1', b1Copy), [], 'b1 served as packed')

  const tarCase = (entries: RawEntry[]): (() => string) => () => xzFile(rawTar([...base('evil\n'), ...entries]))
  const cut = (): string => {
    const whole = compressBytes(rawTar([...base('evil\n'), file('big', 'q'.repeat(300_000))]), 'xz')
    const f = join(dir, 'tars', `cut${n++}.tar.xz`)
    writeFileSync(f, whole.subarray(0, whole.length >> 1))
    return f
  }
  const flipped = (): string => {
    const whole = compressBytes(rawTar([...base('evil\n'), file('big', Buffer.from(Array.from({ length: 400_000 }, (_, i) => (i * 7919) % 251)).toString('latin1'))]), 'bzip2')
    whole.writeUInt8(whole.readUInt8(whole.length >> 1) ^ 0xff, whole.length >> 1)
    const f = join(dir, 'tars', `flip${n++}.tar.bz2`)
    writeFileSync(f, whole)
    return f
  }
  let seed = 7
  const random = (len: number): Buffer => Buffer.from(Array.from({ length: len }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff))

  const cases: Array<[string, () => string, string, RegExp]> = [
    ['path traversal: absolute name', tarCase([file('/etc/cron.d/evil')]), 'E_ARCHIVE_UNSAFE', /entry "\/etc\/cron\.d\/evil" is an absolute path/],
    ['path traversal: ../', tarCase([file('../evil')]), 'E_ARCHIVE_UNSAFE', /entry "\.\.\/evil" contains a "\.\." component/],
    ['path traversal: a/../../x', tarCase([file('etc/../../evil')]), 'E_ARCHIVE_UNSAFE', /entry "etc\/\.\.\/\.\.\/evil" contains a "\.\." component/],
    ['path traversal: ./ then climbing', tarCase([file('./etc/./../../../evil')]), 'E_ARCHIVE_UNSAFE', /contains a "\.\." component/],
    ['path traversal: //absolute', tarCase([file('//etc/evil')]), 'E_ARCHIVE_UNSAFE', /is an absolute path/],
    ['path traversal hidden in a pax path record', tarCase([{ name: 'PaxHeaders/1', type: 'x', data: paxRecords([['path', '../../evil']]) }, file('harmless')]),
      'E_ARCHIVE_UNSAFE', /entry "\.\.\/\.\.\/evil" contains a "\.\." component/],
    ['path traversal hidden in a GNU long name', tarCase([{ name: '././@LongLink', type: 'L', data: Buffer.from(`../../${'d'.repeat(120)}\0`) }, file('harmless')]),
      'E_ARCHIVE_UNSAFE', /entry "\.\.\/\.\.\/d+" contains a "\.\." component/],
    ['control characters in a name (terminal/log forgery)', tarCase([file('etc/\x1b[2Jevil')]), 'E_ARCHIVE_UNSAFE', /contains a NUL or control character/],
    ['a path deeper than 256 levels', tarCase([{ name: 'PaxHeaders/2', type: 'x', data: paxRecords([['path', 'd/'.repeat(300) + 'x']]) }, file('harmless')]),
      'E_ARCHIVE_UNSAFE', /is deeper than 256 levels/],
    ['symlink out of the tree, then a file through it', tarCase([{ name: 'etc/cron.d', type: '2', linkname: '/etc/cron.d' }, file('etc/cron.d/evil')]),
      'E_ARCHIVE_UNSAFE', /entry "etc\/cron\.d\/evil" writes through a symlink "etc\/cron\.d"/],
    ['symlink pointing out as the parent of later entries', tarCase([{ name: 'up', type: '2', linkname: '../../..' }, dirEntry('up/x/'), file('up/x/y')]),
      'E_ARCHIVE_UNSAFE', /entry "up\/x" writes through a symlink "up"/],
    ['symlink to its own folder, then a file through it', tarCase([{ name: 'etc/loop', type: '2', linkname: '.' }, file('etc/loop/issue')]),
      'E_ARCHIVE_UNSAFE', /writes through a symlink "etc\/loop"/],
    ['hardlink escape: absolute target', tarCase([{ name: 'shadow', type: '1', linkname: '/etc/shadow' }]), 'E_ARCHIVE_UNSAFE', /hardlink target of "shadow": "\/etc\/shadow" is an absolute path/],
    ['hardlink escape: ../ target', tarCase([{ name: 'passwd', type: '1', linkname: '../../../etc/passwd' }]), 'E_ARCHIVE_UNSAFE', /contains a "\.\." component/],
    ['hardlink escape: through a symlink', tarCase([{ name: 'hostetc', type: '2', linkname: '/etc' }, { name: 'p', type: '1', linkname: 'hostetc/passwd' }]),
      'E_ARCHIVE_UNSAFE', /entry "p" is a hardlink to "hostetc\/passwd", which is not an earlier entry/],
    ['hardlink to a file not in the archive', tarCase([{ name: 'h', type: '1', linkname: 'etc/shadow' }]), 'E_ARCHIVE_UNSAFE', /not an earlier entry/],
    ['unsupported entry type (contiguous file)', tarCase([{ name: 'c', type: '7', data: Buffer.from('x') }]), 'E_ARCHIVE_UNSAFE', /unsupported type "7"/],
    ['malformed pax header', tarCase([{ name: 'PaxHeaders/3', type: 'x', data: Buffer.from('99999999 path=x\n') }, file('a')]), 'E_ARCHIVE_CORRUPT', /pax header .* is malformed/],
    ['pax global header that renames every entry', tarCase([{ name: 'PaxHeaders/g', type: 'g', data: paxRecords([['path', 'evil']]) }, file('a')]),
      'E_ARCHIVE_UNSAFE', /pax global header that sets "path"/],
    ['malformed GNU long-name header (no entry follows)', () => xzFile(Buffer.concat([rawTar([...base('evil\n'), { name: '././@LongLink', type: 'L', data: Buffer.from('orphan\0') }])])),
      'E_ARCHIVE_CORRUPT', /ends after a pax or long-name header with no entry/],
    ['a 64 MiB GNU long-name header', gnuLongNameBomb, 'E_ARCHIVE_UNSAFE', /GNU long name of 67108864 bytes .*limit 4099/],
    ['bad tar header checksum', tarCase([{ ...file('b'), badChecksum: true }]), 'E_ARCHIVE_CORRUPT', /bad tar header checksum at byte \d+ \(after "etc\/issue"\)/],
    ['truncated stream', cut, 'E_ARCHIVE_CORRUPT', /is damaged/],
    ['corrupt stream (a byte flipped in the bzip2 data)', flipped, 'E_ARCHIVE_CORRUPT', /is damaged/],
    ['a tarball that is random bytes', () => { const f = join(dir, 'tars', `random${n++}.tar.bz2`); writeFileSync(f, random(100_000)); return f },
      'E_ARCHIVE_CORRUPT', /does not start like bz2 data/],
    ['random bytes inside a valid xz container', () => xzFile(random(100_000)), 'E_ARCHIVE_CORRUPT', /bad tar header checksum at byte 0/],
  ]

  for (const [threat, make, code, message] of cases) {
    await t.test(threat, async (t) => {
      const before = await snapshot()
      const made = make()
      const built = copyPackedBuild(config, 'osx', 'bx', made, made.endsWith('.tar.bz2') ? 'tar.bz2' : 'tar.xz')
      const r = await refresh({ config })
      t.same(r.published, [], 'nothing published')
      t.match(r.failed, [{ build: 'bx', error: { name: 'XsError', code, message } }], `refused with ${code}`)
      for (const f of Object.values(built)) rmSync(f)
      t.same(await snapshot(), before, 'config, links, trees, records, ROOT/tmp unchanged; nothing outside')
      t.same(listModules(served.port), ['build-b1'], 'the daemon still reads the config')
    })
  }

  await t.test('a hostile archive replacing b1 leaves the old b1 served exactly', async (t) => {
    const before = await snapshot()
    const saved = readFileSync(b1.tarball)
    writeFileSync(b1.tarball, compressBytes(rawTar([...base('evil\n'), { name: 'etc/x', type: '2', linkname: '/' }, file('etc/x/root/.ssh/authorized_keys')]), 'xz'))
    writeFileSync(b1.md5File, `${execFileSync('md5sum', [b1.tarball]).toString().split(' ')[0]}  os1-tree.tar.xz\n`)
    const r = await refresh({ config })
    t.match(r.failed, [{ build: 'b1', error: { code: 'E_ARCHIVE_UNSAFE', message: /writes through a symlink "etc\/x"/ } }])
    t.same(await snapshot(), before)
    t.same(await pullAndCompare(served.port, 'b1', b1Copy), [], 'laptops still get the old b1')
    writeFileSync(b1.tarball, saved)
    writeFileSync(b1.md5File, `${execFileSync('md5sum', [b1.tarball]).toString().split(' ')[0]}  os1-tree.tar.xz\n`)
    t.same((await refresh({ config })).failed, [])
  })

  await t.test('legal oddities are published safely: literal names inside the tree, no devices or setuid bits on the server disk', async (t) => {
    const odd = xzFile(rawTar([
      ...base('odd\n'),
      file('etc/a\\..\\..\\b'), // backslashes are name bytes on Linux
      file(utf8('etc/\u2215..\u2215..\u2215evil')), // DIVISION SLASH look-alike
      file(utf8('etc/\uff0e\uff0e\uff0fevil')), // fullwidth dots and solidus
      dirEntry('dev/'),
      { name: 'dev/null', type: '3', mode: 0o666 },
      { name: 'dev/sda1', type: '4', mode: 0o660 },
      { name: 'dev/initctl', type: '6', mode: 0o600 },
      dirEntry('tmp/', 0o1777),
      dirEntry('bin/'),
      file('bin/su', 'su', 0o4755),
      file('bin/wall', 'wall', 0o2755),
      { name: 'etc/passwd-link', type: '2', linkname: '/etc/passwd', mode: 0o777 },
    ]))
    copyPackedBuild(config, 'osodd', 'odd', odd, 'tar.xz')
    const r = await refresh({ config })
    t.same([r.published, r.failed], [['odd'], []])
    const tree = readdirSync(layout.trees).find((d) => d.startsWith('odd@')) as string
    const root = join(layout.trees, tree, 'root')
    t.ok(existsSync(join(root, 'etc', 'a\\..\\..\\b')), 'backslash name kept literally inside the tree')
    t.ok(existsSync(join(root, 'etc', '\u2215..\u2215..\u2215evil')) && existsSync(join(root, 'etc', '\uff0e\uff0e\uff0fevil')), 'look-alikes kept literally')
    const walk = (d: string): string[] => readdirSync(d).flatMap((e) => {
      const p = join(d, e)
      const st = lstatSync(p)
      const bad = (st.mode & 0o7000) !== 0 || !(st.isFile() || st.isDirectory()) ? [`${p} ${st.mode.toString(8)}`] : []
      return st.isDirectory() ? [...bad, ...walk(p)] : bad
    })
    t.same(walk(root), [], 'on the server only plain files and folders, no setuid/setgid/sticky bits, no device nodes, fifos or symlinks')
    t.same(readdirSync(outside), [])
    t.same(await pullAndCompare(served.port, 'odd', odd), [], 'laptops get the devices, fifo, setuid and the symlink as the archive says')
    const stolen = join(dir, 'stolen')
    const follow = pullBuild(served.port, 'build-odd/root/etc/passwd-link', stolen, `${stolen}.state`, ['-L'])
    t.not(follow.status, 0, 'a client asking the daemon to follow symlinks (-L) is refused')
    t.notOk(existsSync(stolen) && readdirSync(stolen).length > 0 && readFileSync(join(stolen, readdirSync(stolen)[0] as string), 'utf8') === readFileSync('/etc/passwd', 'utf8'),
      'the server\'s /etc/passwd is never sent')
  })
})

t.test('decompression bomb: refused once the unpacked bound is passed; nothing left', async (t) => {
  // 48 entries of 4 MiB of zeros: 192 MiB unpacked from a few KiB of xz.
  const head = (i: number): Buffer => tarHeader({ name: `zero${i}`, size: 4 << 20 })
  const parts = join(dir, 'tars', 'bomb-heads')
  const tarFile = join(dir, 'tars', 'bomb.tar.xz')
  for (let i = 0; i < 48; i++) writeFileSync(`${parts}${i}`, head(i))
  execFileSync('sh', ['-c', `for i in $(seq 0 47); do cat "$1$i"; head -c 4194304 /dev/zero; done | xz -T1 > "$2"`, 'sh', parts, tarFile])
  const ratio = (48 * (4 << 20)) / lstatSync(tarFile).size
  t.ok(ratio > 1000, `compression ratio ${Math.round(ratio)}:1`)
  const dest = join(dir, 'bomb-dest')
  await t.rejects(unpackBuild({ tarball: tarFile, dest, backend: 'fake-super', limits: { maxUnpackedBytes: 32 << 20 } }),
    { name: 'XsError', code: 'E_ARCHIVE_UNSAFE', message: /entry "zero8" takes the unpacked size over 33554432 bytes/ })
  t.notOk(existsSync(dest), 'dest removed')
  t.same(readdirSync(outside), [])
})
