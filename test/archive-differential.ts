// What xs-rsync serves of an archive is what `tar --numeric-owner -xpf`
// extracts as root, or a clean refusal: archives made by real GNU tar in
// every format it writes, unpacked by xs-rsync (fake-super), served by a real
// rsync daemon and pulled as root with `rsync -aH --numeric-ids`, compared
// name by name (type, permissions, owner, device, content or link target,
// hardlink groups, mtime to the nanosecond, symlinks' too); the archive with
// nanosecond times also served by the fakeroot backend.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, lstatSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkArchive, unpackBuild } from '../packages/publisher/src/unpack.js'
import { gnuExtract, pullFakeroot, pullFakeSuper, readExtracted, treeDiff, type Seen } from './lib/gnu-tar-compare.js'

const dir = t.testdir({})
const sh = (script: string): string => execFileSync('bash', ['-euc', script], { cwd: dir, encoding: 'utf8' })

// Source trees, made as root. `full` uses what only gnu and pax can hold; `plain` fits ustar.
sh(`
mk() {
  s=$1; mkdir -p $s/etc $s/bin $s/dev $s/tmp $s/ro $s/empty
  echo root:x:0:0 > $s/etc/passwd; chmod 644 $s/etc/passwd
  echo secret > $s/etc/shadow; chmod 000 $s/etc/shadow
  cp /bin/true $s/bin/su; chown 0:0 $s/bin/su; chmod 4755 $s/bin/su
  ln $s/bin/su $s/bin/su-hardlink
  echo x > $s/bin/tool; chown 1000:50 $s/bin/tool; chmod 2751 $s/bin/tool
  ln $s/bin/tool $s/bin/tool2; ln $s/bin/tool $s/etc/tool3
  chmod 1777 $s/tmp; chmod 2775 $s/etc
  mknod $s/dev/null c 1 3; mknod $s/dev/sda1 b 8 1; mknod $s/dev/big c 4 300; mkfifo $s/dev/fifo
  chown 0:6 $s/dev/sda1; chmod 660 $s/dev/sda1
  ln -s ../etc/passwd $s/bin/rel-link; ln -s /etc/passwd $s/bin/abs-link; ln -s nowhere $s/bin/dangling
  chown -h 1000:1000 $s/bin/dangling
  echo ro > $s/ro/file; chmod 555 $s/ro
  : > $s/empty-file; chown 65534:65534 $s/empty-file
  touch -d @1000000000 $s/etc/passwd; touch -d '@1600000000' $s/ro; touch -h -d @1234567890 $s/bin/rel-link
}
mk plain
mk full
f=full
touch -d @-86400 $f/old-1969; touch -d @-1 $f/minus-one
touch -d @-2208988800 $f/year-1900
touch -d @4102444800 $f/year-2100
touch -d @10000000000 $f/year-2286
mkdir -p $f/deep/$(printf 'd%.0s' {1..150})/$(printf 'e%.0s' {1..150}); echo deep > $f/deep/$(printf 'd%.0s' {1..150})/$(printf 'e%.0s' {1..150})/$(printf 'n%.0s' {1..200})
ln -s $(printf 't%.0s' {1..150})/target $f/bin/long-link-target
ln $f/deep/$(printf 'd%.0s' {1..150})/$(printf 'e%.0s' {1..150})/$(printf 'n%.0s' {1..200}) $f/bin/hardlink-to-long
echo nl > "$f/new"$'\\n'"line"; echo latin > "$f/latin"$'\\xff\\xfe'; echo sp > "$f/with space"
echo big-ids > $f/big-ids; chown 3000000000:3000000001 $f/big-ids
touch -d @1500000000.123456 $f/fraction
# nanosecond times (GNU tar --format=posix keeps them) on every kind of name, set last (folders too)
n=ns; mkdir -p $n/etc/sub $n/bin
echo a > $n/etc/file; echo b > $n/bin/prog; chmod 755 $n/bin/prog; ln $n/bin/prog $n/bin/prog-hardlink
ln -s ../etc/file $n/bin/rel-link; ln -s /nowhere $n/etc/dangling; mkfifo $n/etc/fifo
echo same1 > $n/etc/same1; echo same2 > $n/etc/same2; echo us > $n/etc/micro; echo neg > $n/etc/neg-fraction
echo whole > $n/etc/whole
touch -d @1796607276.123456789 $n/etc/file; touch -d @1796607276.000000001 $n/bin/prog
touch -h -d @1700000000.999999999 $n/bin/rel-link; touch -h -d @1600000000.5 $n/etc/dangling
touch -d @1500000000.25 $n/etc/fifo; touch -d @1796607276.123456789 $n/etc/same1 $n/etc/same2
touch -d @1796607276.653452 $n/etc/micro; touch -d @-1.123456789 $n/etc/neg-fraction; touch -d @1700000000 $n/etc/whole
touch -d @1234567890.987654321 $n/etc/sub; touch -d @1234567891.000000007 $n/etc; touch -d @1234567892.1 $n/bin
touch -d @1234567893.333333333 $n
dd if=/dev/zero of=$f/../sparse-src bs=1 count=0 seek=4M status=none; echo end >> $f/../sparse-src
`)

// The names given no time above have the time they were made: this second. rsync (3.2 and later)
// compares times in whole seconds unless told --modify-window=-1, so a folder or symlink the
// client makes in that same second keeps the client's own time, a fraction past the archive's
// whole second, and the pulled tree differs from GNU tar's by that fraction (seen in CI on a quiet
// machine: the first case ran within the second its tree was made). The cases begin in the next second.
await new Promise((resolve) => setTimeout(resolve, 1001 - (Date.now() % 1000)))

interface Case {
  name: string
  /** The tar command's arguments that make the archive (before -f). */
  make: string
  /** undefined: xs-rsync must serve what GNU tar extracts; a RegExp: it must refuse with this message. */
  refuse?: RegExp
  /** The archive has no entry for its top folder: its mtime is the time of extraction on both sides. */
  noRoot?: true
  /** Unpacked for the fakeroot backend and served under `fakeroot -i` (default: fake-super). */
  fakeroot?: true
}

/** Names below `dir` whose atime is before `ns`, seen with lstat alone (each folder before it is read: reading sets atimes). */
const atimesBefore = (dir: string, ns: bigint): string[] => {
  const out: string[] = []
  const walk = (abs: Buffer): void => {
    const st = lstatSync(abs, { bigint: true })
    if (st.atimeNs < ns) out.push(`${abs.toString('latin1').slice(dir.length)}: ${st.atimeNs}`)
    if (st.isDirectory()) for (const n of readdirSync(abs, { encoding: 'buffer' })) walk(Buffer.concat([abs, Buffer.from('/'), n]))
  }
  walk(Buffer.from(dir))
  return out
}

const cases: Case[] = [
  { name: 'gnu, full tree', make: '--format=gnu -C full .' },
  { name: 'oldgnu, full tree', make: '--format=oldgnu -C full .' },
  { name: 'pax, full tree (ns times, atime/ctime records, hdrcharset for a latin1 name)', make: '--format=pax -C full .' },
  { name: 'pax with a global header holding a comment (as git archive writes)', make: '--format=pax --pax-option=comment=made-by-the-noc -C full .' },
  { name: 'ustar, plain tree', make: '--format=ustar -C plain .' },
  { name: 'posix, nanosecond times on files, folders, symlinks, hardlinks, a fifo (fake-super)', make: '--format=posix -C ns .' },
  { name: 'posix, nanosecond times on files, folders, symlinks, hardlinks, a fifo (fakeroot)', make: '--format=posix -C ns .', fakeroot: true },
  { name: 'gnu with --numeric-owner and ./-less names', make: '--format=gnu --numeric-owner -C plain etc bin dev', noRoot: true },
  { name: 'pax global header that sets uid for every entry', make: '--format=pax --pax-option=uid=77 -C plain .', refuse: /pax global header that sets "uid"/ },
  { name: 'GNU sparse, old GNU format', make: '--format=gnu --sparse -C . sparse-src', refuse: /is a GNU sparse file \(the old GNU format\)/ },
  { name: 'GNU sparse, pax 0.0', make: '--format=pax --sparse --sparse-version=0.0 -C . sparse-src', refuse: /is a GNU sparse file \(pax format 0\.0\)/ },
  { name: 'GNU sparse, pax 0.1', make: '--format=pax --sparse --sparse-version=0.1 -C . sparse-src', refuse: /is a GNU sparse file \(pax format 0\.1\)/ },
  { name: 'GNU sparse, pax 1.0', make: '--format=pax --sparse --sparse-version=1.0 -C . sparse-src', refuse: /entry "sparse-src" is a GNU sparse file \(pax format 1\.0\)/ },
]

for (const c of cases) {
  t.test(c.name, async (t) => {
    const id = cases.indexOf(c)
    const tarFile = join(dir, `a${id}.tar`)
    sh(`tar -c -f ${tarFile} ${c.make}`)
    const tarball = join(dir, `a${id}.tar.xz`)
    writeFileSync(tarball, execFileSync('xz', ['-0', '-c', tarFile], { maxBuffer: 1 << 30 }))
    const gnuDir = join(dir, `gnu${id}`)
    const g = gnuExtract(tarFile, gnuDir)
    t.equal(g.status, 0, `GNU tar extracts it: ${g.stderr}`)
    const dest = join(dir, `xs${id}`)
    const started = BigInt(Math.floor(Date.now() / 1000)) * 1000000000n
    const verdict = await unpackBuild({ tarball, dest, backend: c.fakeroot === true ? 'fakeroot' : 'fake-super', reserve: { bytes: 0, inodes: 0 } })
      .then((r) => r, (e: unknown) => e as Error)
    const check = await checkArchive({ tarball }).then(() => 'accepted', (e: { code: string, message: string }) => `${e.code}: ${e.message}`)
    if (c.refuse !== undefined) {
      t.match(verdict, { name: 'XsError', code: 'E_ARCHIVE_UNSAFE', message: c.refuse }, 'refused with its reason')
      t.notOk(existsSync(dest), 'nothing left of the unpack')
      t.equal(check, `E_ARCHIVE_UNSAFE: ${(verdict as Error).message}`, 'ingest --check refuses it with the same words')
      return
    }
    if (verdict instanceof Error) {
      t.fail(`xs-rsync refused what it should serve: ${verdict.message}`)
      return
    }
    t.equal(check, 'accepted', 'ingest --check accepts it too')
    // atime: GNU tar sets the time of extraction (it ignores the archive's atime records); so does xs-rsync
    t.same(atimesBefore(verdict.root, started), [], 'every served name\'s atime is the time of the unpack')
    const pulled = join(dir, `pulled${id}`)
    const p = c.fakeroot === true ? await pullFakeroot(verdict.root, verdict.ownership, pulled, dir) : await pullFakeSuper(verdict.root, pulled, dir)
    t.equal(p.status, 0, `rsync -aH --numeric-ids pulls it as root: ${p.stderr}`)
    const want = readExtracted(gnuDir)
    t.ok(want.size > 10, `GNU tar made ${want.size} names`)
    const got = readExtracted(pulled)
    if (c.noRoot === true) for (const tree of [want, got]) tree.set('', { ...tree.get('') as Seen, mtimeNs: 0n })
    t.same(treeDiff(want, got), [], 'the pulled tree is what GNU tar extracts, name by name')
  })
}

t.test('the trees hold what the comparison needs', async (t) => {
  const full = readExtracted(join(dir, 'gnu0'))
  const show = (p: string): string | undefined => full.get(p)?.mtimeNs.toString()
  t.equal(show('old-1969'), String(-86400n * 1000000000n), 'a negative mtime')
  t.equal(show('minus-one'), String(-1000000000n), 'mtime -1 (tar-stream alone reads it as 0)')
  t.equal(show('year-2100'), String(4102444800n * 1000000000n), 'a far-future mtime')
  t.equal(full.get('dev/big')?.type, 'char')
  t.equal(full.get('big-ids')?.owner, '3000000000:3000000001')
  t.equal(full.get('bin/tool2')?.link, 'bin/tool', 'hardlink groups')
  t.ok([...full.keys()].some((p) => p.length > 500), 'a path over 500 bytes')
  t.ok(readExtracted(join(dir, 'gnu2')).has('latin\xff\xfe'), 'a name that is not UTF-8, in the pax archive too')
  t.ok(readExtracted(join(dir, 'gnu2')).has('new\nline'), 'a name with a newline')
  const ns = readExtracted(join(dir, `gnu${cases.findIndex((c) => c.fakeroot === true)}`))
  const nsOf = (p: string): string | undefined => ns.get(p)?.mtimeNs.toString()
  t.equal(nsOf('etc/file'), '1796607276123456789', 'a file time with nanoseconds')
  t.equal(nsOf('bin/prog-hardlink'), '1796607276000000001', 'a hardlink with it')
  t.equal(nsOf('bin/rel-link'), '1700000000999999999', 'a symlink time with nanoseconds')
  t.equal(nsOf('etc/sub'), '1234567890987654321', 'a folder time with nanoseconds')
  t.equal(nsOf(''), '1234567893333333333', 'the top folder too')
  t.equal(nsOf('etc/neg-fraction'), '-1123456789', 'a negative time with nanoseconds')
  t.equal(nsOf('etc/micro'), '1796607276653452000', 'a microsecond time that Node sets 1 µs early')
})

t.test('an archive without its end-of-archive blocks: GNU tar extracts it silently, xs-rsync refuses it (docs/security.md)', async (t) => {
  const whole = readFileSync(join(dir, 'a4.tar'))
  let end = whole.length
  while (end >= 512 && whole.subarray(end - 512, end).every((b) => b === 0)) end -= 512
  const cut = join(dir, 'no-eoa.tar')
  writeFileSync(cut, whole.subarray(0, end))
  const g = gnuExtract(cut, join(dir, 'gnu-no-eoa'))
  t.equal(g.status, 0, 'GNU tar: exit 0')
  const tarball = join(dir, 'no-eoa.tar.xz')
  writeFileSync(tarball, execFileSync('xz', ['-0', '-c', cut]))
  await t.rejects(unpackBuild({ tarball, dest: join(dir, 'xs-no-eoa'), backend: 'fake-super', reserve: { bytes: 0, inodes: 0 } }),
    { code: 'E_ARCHIVE_CORRUPT', message: /has no end-of-archive marker .*it may be truncated/ })
  await t.rejects(checkArchive({ tarball }), { code: 'E_ARCHIVE_CORRUPT', message: /has no end-of-archive marker/ })
})
