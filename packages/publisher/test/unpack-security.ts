import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { unpackBuild, type UnpackOptions } from '../src/unpack.js'
import { compressBytes, compressFile, paxRecords, rawTar, tarHeader, type Compressor, type RawEntry } from './lib/make-archive.js'

const dir = t.testdir({ outside: {} })
const outside = join(dir, 'outside')
let n = 0

const tarball = (data: Uint8Array, how: Compressor = 'xz', ext = 'tar.xz'): string => {
  const file = join(dir, `t${n++}.${ext}`)
  writeFileSync(file, compressBytes(data, how))
  return file
}

/** Unpack must reject with `code` and `message`, leave no dest, and write nothing outside it. */
const rejects = async (t: Test, file: string, code: string, message: RegExp, opts: Partial<UnpackOptions> = {}): Promise<void> => {
  for (const backend of opts.backend === undefined ? ['fake-super', 'fakeroot'] as const : [opts.backend]) {
    const dest = join(dir, `dest${n++}`)
    const er = await unpackBuild({ tarball: file, dest, backend, ...opts }).then(() => undefined, (e: unknown) => e)
    t.match(er, { name: 'XsError', code, message }, backend)
    t.match(er, { message: file }, 'the message names the tarball')
    t.notOk(existsSync(dest), 'dest is removed')
    t.same(readdirSync(outside), [], 'nothing written outside dest')
  }
}

const file = (name: string, data = 'x'): RawEntry => ({ name, data: Buffer.from(data) })

t.test('a 64 MiB pax path header fails at its header, without reading it into memory', async (t) => {
  const head = join(dir, 'pax-head')
  writeFileSync(head, tarHeader({ name: 'PaxHeaders/evil', type: 'x', size: 64 * 1024 * 1024 }))
  const bomb = join(dir, 'paxbomb.tar.xz')
  execFileSync('sh', ['-c', `{ cat "${head}"; head -c 67108864 /dev/zero | tr '\\0' a; } | xz -0 -T1 > "${bomb}"`])
  const before = process.resourceUsage().maxRSS
  await rejects(t, bomb, 'E_ARCHIVE_UNSAFE', /pax header of 67108864 bytes .*limit 1048576/)
  t.ok(process.resourceUsage().maxRSS - before < 32 * 1024, `peak RSS grew ${process.resourceUsage().maxRSS - before} KiB, not 64 MiB`)
})

t.test('GNU long names are held to the path limit before they are read', async (t) => {
  const long = Buffer.alloc(4096, 'n')
  await rejects(t, tarball(rawTar([{ name: '././@LongLink', type: 'L', data: long }, file('x')])), 'E_ARCHIVE_UNSAFE', /GNU long name of 4096 bytes .*\(limit 1027\)/,
    { limits: { maxPathBytes: 1024 } })
  await rejects(t, tarball(rawTar([{ name: '././@LongLink', type: 'K', data: Buffer.alloc(5000, 'k') }, { name: 'x', type: '1', linkname: 'y' }])),
    'E_ARCHIVE_UNSAFE', /GNU long link name of 5000 bytes .*\(limit 4099\)/)
})

t.test('path traversal', async (t) => {
  const cases: [string, RegExp][] = [
    ['/etc/evil', /entry "\/etc\/evil" is an absolute path/],
    ['../evil', /entry "\.\.\/evil" contains a "\.\." component/],
    ['a/../../evil', /entry "a\/\.\.\/\.\.\/evil" contains a "\.\." component/],
    ['./ok/../../../evil', /"\.\/ok\/\.\.\/\.\.\/\.\.\/evil" contains a "\.\." component/],
  ]
  for (const [name, re] of cases) await rejects(t, tarball(rawTar([file('fine'), file(name)])), 'E_ARCHIVE_UNSAFE', re)
})

t.test('symlink then a file through it', async (t) => {
  await rejects(t, tarball(rawTar([{ name: 'link', type: '2', linkname: outside }, file('link/x')])),
    'E_ARCHIVE_UNSAFE', /entry "link\/x" writes through a symlink "link"/)
  await rejects(t, tarball(rawTar([{ name: 'a/link', type: '2', linkname: '..' }, file('a/link/b/c')])),
    'E_ARCHIVE_UNSAFE', /entry "a\/link\/b\/c" writes through a symlink "a\/link"/)
  await rejects(t, tarball(rawTar([{ name: 'link', type: '2', linkname: outside }, { name: 'link/sub', type: '5' }])),
    'E_ARCHIVE_UNSAFE', /entry "link\/sub" writes through a symlink "link"/)
  await rejects(t, tarball(rawTar([file('f'), file('f/x')])), 'E_ARCHIVE_UNSAFE', /entry "f\/x" writes through a non-directory "f"/)
})

t.test('hardlinks must point at earlier non-directory entries', async (t) => {
  await rejects(t, tarball(rawTar([{ name: 'h', type: '1', linkname: 'missing' }])), 'E_ARCHIVE_UNSAFE', /entry "h" is a hardlink to "missing", which is not an earlier entry/)
  await rejects(t, tarball(rawTar([{ name: 'h', type: '1', linkname: '../../etc/passwd' }])), 'E_ARCHIVE_UNSAFE', /hardlink target of "h": "\.\.\/\.\.\/etc\/passwd" contains a "\.\." component/)
  await rejects(t, tarball(rawTar([{ name: 'h', type: '1', linkname: '/etc/passwd' }])), 'E_ARCHIVE_UNSAFE', /hardlink target of "h": "\/etc\/passwd" is an absolute path/)
  await rejects(t, tarball(rawTar([{ name: 'd', type: '5' }, { name: 'h', type: '1', linkname: 'd' }])), 'E_ARCHIVE_UNSAFE', /entry "h" is a hardlink to the directory "d"/)
  await rejects(t, tarball(rawTar([file('later'), { name: 'h', type: '1', linkname: 'h' }])), 'E_ARCHIVE_UNSAFE', /entry "h" is a hardlink to "h", which is not an earlier/)
})

t.test('entry types we do not unpack', async (t) => {
  await rejects(t, tarball(rawTar([file('ok'), { name: 'c', type: '7', data: Buffer.from('x') }])), 'E_ARCHIVE_UNSAFE', /entry "c" has an unsupported type "7" \(contiguous file\)/)
  await rejects(t, tarball(rawTar([{ name: 'sparse', type: 'S' }])), 'E_ARCHIVE_UNSAFE', /entry "sparse" is a GNU sparse file \(the old GNU format\); xs-rsync does not unpack sparse files/)
  await rejects(t, tarball(rawTar([{ name: 'v', type: 'V' }])), 'E_ARCHIVE_UNSAFE', /entry "v" has an unsupported type "V"/)
})

t.test('replacing directories', async (t) => {
  await rejects(t, tarball(rawTar([{ name: 'd', type: '5' }, file('d/x'), file('d')])), 'E_ARCHIVE_UNSAFE', /entry "d" would replace a directory/)
  await rejects(t, tarball(rawTar([file('f'), { name: 'f', type: '5' }])), 'E_ARCHIVE_UNSAFE', /"f" is a directory that would replace a non-directory/)
  await rejects(t, tarball(rawTar([{ name: '.', type: '2', linkname: '/' }])), 'E_ARCHIVE_UNSAFE', /entry "\." is not a directory but its name ends in "\/" or "\."/)
})

t.test('damaged archives', async (t) => {
  await rejects(t, tarball(rawTar([file('a'), { ...file('b'), badChecksum: true }])), 'E_ARCHIVE_CORRUPT', /bad tar header checksum at byte 1024 \(after "a"\)/)
  await rejects(t, tarball(rawTar([{ ...file('neg'), sizeField: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]) }])),
    'E_ARCHIVE_UNSAFE', /entry "neg" has a negative size/)
  await rejects(t, tarball(rawTar([{ ...file('odd'), sizeField: Buffer.from('0000000009x\0') }])), 'E_ARCHIVE_CORRUPT', /entry "odd" has a malformed size field/)
  await rejects(t, tarball(rawTar([{ name: 'huge', sizeField: Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0]) }])),
    'E_ARCHIVE_UNSAFE', /entry "huge" takes the unpacked size over/, { limits: { maxUnpackedBytes: 1 << 30 } })
  await rejects(t, tarball(rawTar([file('a', 'x'.repeat(600)), file('b', 'y'.repeat(600))])), 'E_ARCHIVE_UNSAFE', /entry "b" takes the unpacked size over 1000 bytes/,
    { limits: { maxUnpackedBytes: 1000 } })
  await rejects(t, tarball(rawTar([file('a'), file('b'), file('c')])), 'E_ARCHIVE_UNSAFE', /takes the archive over 3 entries/, { limits: { maxEntries: 3 } })
  await rejects(t, tarball(Buffer.concat([rawTar([file('a')], false), tarHeader({ name: 'cut', size: 4096 }), Buffer.alloc(100)])),
    'E_ARCHIVE_CORRUPT', /truncated: the tar data ends inside "cut"/)
  await rejects(t, tarball(Buffer.from('not a tar at all '.repeat(100))), 'E_ARCHIVE_CORRUPT', /bad tar header checksum at byte 0/)
  await rejects(t, tarball(Buffer.alloc(0)), 'E_ARCHIVE_CORRUPT', /holds no entries/)
  await rejects(t, tarball(rawTar([{ name: 'PaxHeaders/x', type: 'x', data: Buffer.from('junk') }, file('a')])), 'E_ARCHIVE_CORRUPT', /pax header .* is malformed/)
  await rejects(t, tarball(rawTar([{ name: 'PaxHeaders/g', type: 'g', data: paxRecords([['path', 'evil']]) }, file('a')])), 'E_ARCHIVE_UNSAFE', /pax global header that sets "path"/)
})

t.test('truncated and random compressed data', async (t) => {
  const good = rawTar([file('a', 'z'.repeat(200000)), file('b', Buffer.from(Array.from({ length: 300000 }, (_, i) => (i * 7919) % 251)).toString('latin1'))])
  for (const [how, ext] of [['bzip2', 'tar.bz2'], ['xz', 'tar.xz'], ['lzma', 'tar.lzma']] as const) {
    const whole = compressBytes(good, how)
    const cut = join(dir, `cut${n++}.${ext}`)
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)))
    await rejects(t, cut, 'E_ARCHIVE_CORRUPT', new RegExp(`${cut.replace(/\./g, '\\.')} is damaged`))
  }
  const cut = join(dir, `cut${n++}.tar.bz2`)
  const whole = compressBytes(good, 'bzip2')
  writeFileSync(cut, whole.subarray(0, whole.length - 100))
  await rejects(t, cut, 'E_ARCHIVE_CORRUPT', /is damaged: bzip2 \(seek-bzip\): unexpected end/, { decoder: 'js', backend: 'fake-super' })
  // Deterministic "random" bytes.
  let x = 12345
  const random = Buffer.from(Array.from({ length: 100000 }, () => (x = (x * 1103515245 + 12345) % 2 ** 31) & 0xff))
  const junk = join(dir, 'random.tar.bz2')
  writeFileSync(junk, random)
  await rejects(t, junk, 'E_ARCHIVE_CORRUPT', /random\.tar\.bz2 does not start like bz2 data/)
  writeFileSync(junk, Buffer.concat([Buffer.from('BZh91AY&SY'), random]))
  await rejects(t, junk, 'E_ARCHIVE_CORRUPT', /random\.tar\.bz2 is damaged: (lbzip2|bzip2)/)
  await rejects(t, junk, 'E_ARCHIVE_CORRUPT', /random\.tar\.bz2 is damaged: bzip2 \(seek-bzip\)/, { decoder: 'js', backend: 'fake-super' })
})

t.test('md5 mismatch is E_CHECKSUM, also when the archive is damaged', async (t) => {
  const ok = tarball(rawTar([file('a')]))
  await rejects(t, ok, 'E_CHECKSUM', /md5 is [0-9a-f]{32}, expected 0{32}/, { expectedMd5: '0'.repeat(32) })
  const right = createHash('md5').update(readFileSync(ok)).digest('hex')
  const r = await unpackBuild({ tarball: ok, dest: join(dir, 'md5ok'), backend: 'fake-super', expectedMd5: right.toUpperCase() })
  t.equal(r.md5, right)
  await rejects(t, tarball(rawTar([file('/abs')])), 'E_CHECKSUM', /expected 0{32}; it does not unpack either: .*entry "\/abs" is an absolute path/, { expectedMd5: '0'.repeat(32) })
})

t.test('dest must be new; fakeroot paths must not hold spaces', async (t) => {
  const ok = tarball(rawTar([file('a')]))
  const existing = join(dir, 'existing')
  mkdirSync(existing)
  writeFileSync(join(existing, 'keep'), 'mine')
  await t.rejects(unpackBuild({ tarball: ok, dest: existing, backend: 'fake-super' }), { code: 'E_IO', message: /already exists/ })
  t.equal(readFileSync(join(existing, 'keep'), 'utf8'), 'mine', 'an existing dest is left alone')
  await t.rejects(unpackBuild({ tarball: ok, dest: join(dir, 'with space'), backend: 'fakeroot' }), { code: 'E_CONFIG', message: /without spaces/ })
  t.notOk(existsSync(join(dir, 'with space')))
  await t.rejects(unpackBuild({ tarball: join(dir, 'nope.tar.xz'), dest: join(dir, 'nope'), backend: 'fake-super' }), { code: 'E_NOT_FOUND' })
  t.notOk(existsSync(join(dir, 'nope')))
})

t.test('a full disk is E_NO_SPACE and leaves nothing behind', async (t) => {
  const mnt = join(dir, 'small')
  mkdirSync(mnt)
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mnt])
  t.teardown(() => { execFileSync('umount', [mnt]) })
  const big = tarball(rawTar([file('big', 'q'.repeat(2 * 1024 * 1024))]))
  await t.rejects(unpackBuild({ tarball: big, dest: join(mnt, 'dest'), backend: 'fake-super' }), { code: 'E_NO_SPACE' })
  t.same(readdirSync(mnt), [])
})

/** Our child processes that are decoders (from /proc). */
const decoderChildren = (): string[] =>
  readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat)
      return m !== null && Number(m[2]) === process.pid && /bzip2|xz/.test(m[1] ?? '') ? [`${p} ${m[1]}`] : []
    } catch {
      return []
    }
  })

t.test('abort kills the decoder, removes dest and rejects', async (t) => {
  const big = join(dir, 'abort.tar.bz2')
  const tar = join(dir, 'abort.tar')
  writeFileSync(tar, rawTar([{ name: 'big', data: randomBytes(4_000_000) }]))
  compressFile(tar, 'bzip2', big)
  for (const decoder of ['native', 'js'] as const) {
    const ac = new AbortController()
    const dest = join(dir, `abort-${decoder}`)
    const p = unpackBuild({ tarball: big, dest, backend: 'fake-super', decoder, signal: ac.signal, onProgress: () => ac.abort() })
    await t.rejects(p, { name: 'XsError', message: /was aborted/ }, decoder)
    t.notOk(existsSync(dest))
    t.same(decoderChildren(), [], 'no decoder process left')
  }
  const ac = new AbortController()
  const reason = new Error('stick pulled')
  ac.abort(reason)
  await t.rejects(unpackBuild({ tarball: big, dest: join(dir, 'abort-early'), backend: 'fake-super', signal: ac.signal }), { message: /was aborted/, cause: reason })
  t.notOk(existsSync(join(dir, 'abort-early')))
})

t.test('harmless oddities unpack', async (t) => {
  const r = await unpackBuild({
    tarball: tarball(rawTar([
      file('same', 'old'), file('same', 'new'),
      { name: 'd', type: '5', mode: 0o700 }, { name: 'd', type: '5', mode: 0o755 },
      file('implicit/parent/file'),
      file('a\\..\\..\\b'),
    ])),
    dest: join(dir, 'odd'),
    backend: 'fake-super',
  })
  t.equal(readFileSync(join(r.root, 'same'), 'utf8'), 'new', 'a later file replaces an earlier one')
  t.ok(existsSync(join(r.root, 'a\\..\\..\\b')), 'backslashes are plain name bytes and stay inside')
  const stats = execFileSync('getfattr', ['-R', '-d', '-m', '-', '-e', 'text', '.'], { cwd: r.root }).toString()
  t.match(stats, /# file: d\nuser\.rsync\.%stat="40755 0,0 0:0"/, 'a repeated directory updates its metadata')
  t.match(stats, /# file: implicit\nuser\.rsync\.%stat="40755 0,0 0:0"/, 'implicit parents are 0755 root:root')
  t.match(stats, /# file: \.\nuser\.rsync\.%stat="40755 0,0 0:0"/, 'a root without its own entry is 0755 root:root')
  t.equal(r.entries, 7, 'root, same, d, implicit, implicit/parent, implicit/parent/file, a\\..\\..\\b')
})
