import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ProgressEvent } from '@xs-rsync/core'
import { prepareStick } from '../src/prepare-stick.js'
import { makeSecretKey, type SecretTestKey } from './lib/gpg-secret.js'

/** A real tarball (made by tar + the named compressor) with whatever sidecar files are asked for. */
const makeBuild = (dir: string, file: string, opts: { md5?: string | true, contents?: string, name?: string, payload?: number } = {}): string => {
  const src = join(dir, `${file}.src`)
  mkdirSync(join(src, 'etc'), { recursive: true })
  writeFileSync(join(src, 'etc', 'hostname'), 'xo\n')
  if (opts.payload !== undefined) writeFileSync(join(src, 'payload'), randomBytes(opts.payload))
  const tarball = join(dir, file)
  const comp = file.endsWith('.bz2') ? '--bzip2' : file.endsWith('.xz') ? '--xz' : '--lzma'
  execFileSync('tar', ['-C', src, comp, '-cf', tarball, '.'])
  const base = file.replace(/[-.]tree\.tar\.\w+$/, '')
  if (opts.contents !== undefined) writeFileSync(join(dir, opts.contents), 'etc/hostname\n')
  else writeFileSync(join(dir, `${base}.contents`), 'etc/hostname\n')
  if (opts.md5 !== undefined) {
    const md5 = opts.md5 === true ? createHash('md5').update(readFileSync(tarball)).digest('hex') : opts.md5
    writeFileSync(`${tarball}.md5`, `${md5}  ${file}\n`)
  }
  if (opts.name !== undefined) writeFileSync(join(dir, `${base}.name`), `${opts.name}\n`)
  return tarball
}

const sums = (dir: string, tool: string, file: string): { status: number | null, out: string } => {
  const r = spawnSync(tool, ['--strict', '-c', file], { cwd: dir, encoding: 'utf8' })
  return { status: r.status, out: r.stdout + r.stderr }
}

let key: SecretTestKey
t.before(() => { key = makeSecretKey({ algo: 'ed25519', passphrase: 'noc pass' }) })
t.teardown(() => { key.dispose() })

t.test('unsigned: exactly the build files and two manifests that sha256sum/sha1sum/md5sum accept', async (t) => {
  const dir = t.testdir({ a: {}, b: {}, stick: {} })
  const a = makeBuild(join(dir, 'a'), 'os44-tree.tar.bz2', { md5: true, name: '44' })
  const b = makeBuild(join(dir, 'b'), 'os45-tree.tar.xz')
  const logs: string[] = []
  const events: ProgressEvent[] = []
  const res = await prepareStick({
    out: join(dir, 'stick'),
    builds: [{ tarball: a }, { tarball: b, name: '45' }],
    log: (level, msg) => logs.push(`${level}: ${msg}`),
    onProgress: (ev) => events.push(ev),
  })
  const sd = join(dir, 'stick', 'xs-xobuilds')
  t.equal(res.dir, sd)
  t.same(readdirSync(join(dir, 'stick')), ['xs-xobuilds'], 'no staging left beside it')
  t.same(readdirSync(sd).sort(), ['manifest.sha1', 'manifest.sha256', 'os44-tree.tar.bz2', 'os44-tree.tar.bz2.md5', 'os44.contents', 'os44.name',
    'os45-tree.tar.xz', 'os45-tree.tar.xz.md5', 'os45.contents', 'os45.name'])
  for (const [tool, file] of [['sha256sum', 'manifest.sha256'], ['sha1sum', 'manifest.sha1'], ['md5sum', 'os44-tree.tar.bz2.md5'], ['md5sum', 'os45-tree.tar.xz.md5']] as const) {
    const r = sums(sd, tool, file)
    t.equal(r.status, 0, `${tool} -c ${file}: ${r.out}`)
  }
  t.equal(readFileSync(join(sd, 'manifest.sha256'), 'utf8').split('\n').filter(Boolean).length, 8, 'the manifest lists the 8 build files, nothing else')
  t.equal(readFileSync(join(sd, 'os45.name'), 'utf8'), '45\n')
  t.same(res.builds.map((x) => x.name), ['44', '45'])
  t.same(res.check.published.sort(), ['44', '45'], 'read back through ingest --check')
  t.equal(res.check.check, true)
  t.equal(res.signedBy, undefined)
  t.match(logs.join('\n'), /warning: No signing key given: the manifests are NOT signed/)
  t.match(logs.join('\n'), /read-back: .*CHECKED/)
  t.match(logs.join('\n'), /read-back: Not checking the store for space/, 'the read-back needs no store and no space')
  t.match(res.line, /^DONE: .* holds builds 44, 45, UNSIGNED, read back and verified$/)
  const copy = events.filter((e) => e.step === 'copy')
  t.ok(copy.length > 0, 'copy progress')
  t.equal(copy.at(-1)?.bytesDone, copy.at(-1)?.bytesTotal, 'progress ends at 100%')
})

t.test('olpc-os-builder output (X.tree.tar.lzma + X.toc) signed with a protected gpg key', async (t) => {
  const dir = t.testdir({ o: {}, stick: { 'README.txt': 'other stick content is left alone\n', 'xs-xobuilds': {} } })
  const o = makeBuild(join(dir, 'o'), '32013o1.tree.tar.lzma', { contents: '32013o1.toc' })
  const res = await prepareStick({ out: join(dir, 'stick'), builds: [{ tarball: o, name: '13.2.0' }], signKey: key.secretArmored, passphrase: 'noc pass' })
  const sd = res.dir
  t.same(readdirSync(sd).sort(), ['32013o1-tree.tar.lzma', '32013o1-tree.tar.lzma.md5', '32013o1.contents', '32013o1.name',
    'manifest.sha1', 'manifest.sha1.sig', 'manifest.sha256', 'manifest.sha256.sig'])
  t.equal(res.signedBy, key.fingerprint)
  for (const m of ['manifest.sha256', 'manifest.sha1']) {
    t.ok(key.gpgVerify(readFileSync(join(sd, m)), readFileSync(join(sd, `${m}.sig`))).ok, `gpg --verify ${m}.sig`)
  }
  t.equal(readFileSync(join(sd, '32013o1.contents'), 'utf8'), 'etc/hostname\n', '.toc copied as .contents')
  t.equal(readFileSync(join(dir, 'stick', 'README.txt'), 'utf8'), 'other stick content is left alone\n')
  t.equal(res.check.security, 'enforcing', 'read back with the signature required')
  t.equal(res.check.signature?.fingerprint, key.fingerprint)
})

const leftovers = (stick: string): string[] => existsSync(stick) ? readdirSync(stick) : []

t.test('refusals leave nothing on the stick', async (t) => {
  const dir = t.testdir({ b: {}, c: {}, stick: {} })
  const good = makeBuild(join(dir, 'b'), 'os44-tree.tar.bz2', { md5: true, name: '44' })
  const badMd5 = makeBuild(join(dir, 'c'), 'os46-tree.tar.bz2', { md5: '0'.repeat(32), name: '46' })
  const noName = makeBuild(join(dir, 'c'), 'os47-tree.tar.xz')
  const badName = makeBuild(join(dir, 'c'), 'os48-tree.tar.xz', { name: '../48' })
  const out = join(dir, 'stick')
  const cases: [string, Parameters<typeof prepareStick>[0], string, RegExp][] = [
    ['tarball does not match its .md5', { out, builds: [{ tarball: good }, { tarball: badMd5 }] }, 'E_CHECKSUM', /os46-tree\.tar\.bz2: md5 is [0-9a-f]{32}, .* says 0{32}/],
    ['no .name and no name given', { out, builds: [{ tarball: noName }] }, 'E_BUILD_INCOMPLETE', /no os47\.name .*--name/],
    ['.name and the given name differ', { out, builds: [{ tarball: good, name: '45' }] }, 'E_USAGE', /says the build is "44" but the name given is "45"/],
    ['name not allowed', { out, builds: [{ tarball: badName }] }, 'E_BUILD_NAME', /not allowed/],
    ['same name twice', { out, builds: [{ tarball: good }, { tarball: noName, name: '44' }] }, 'E_BUILD_NAME', /44 is given to more than one build/],
    ['no build', { out, builds: [] }, 'E_USAGE', /no build given/],
    ['missing tarball', { out, builds: [{ tarball: join(dir, 'b', 'os49-tree.tar.bz2') }] }, 'E_NOT_FOUND', /os49-tree\.tar\.bz2 does not exist$/],
    ['protected key without its passphrase', { out, builds: [{ tarball: good }], signKey: key.secretBinary }, 'E_KEYRING', /passphrase/],
    ['wrong passphrase', { out, builds: [{ tarball: good }], signKey: key.secretBinary, passphrase: 'nope' }, 'E_KEYRING', /cannot unlock/],
    ['a public key to sign with', { out, builds: [{ tarball: good }], signKey: key.publicArmored }, 'E_KEYRING', /not an OpenPGP secret key/],
  ]
  for (const [what, opts, code, message] of cases) {
    await t.rejects(prepareStick(opts), { name: 'XsError', code, message }, what)
    t.same(leftovers(out), [], `${what}: nothing written`)
  }
  const ac = new AbortController()
  ac.abort(new Error('stopped'))
  await t.rejects(prepareStick({ out, builds: [{ tarball: good }], signal: ac.signal }), /stopped/)
  t.same(leftovers(out), [], 'stopped: staging removed')
})

t.test('a stick folder that does not exist is refused, never created (a mistyped mount point)', async (t) => {
  const dir = t.testdir({ b: {} })
  const good = makeBuild(join(dir, 'b'), 'os44-tree.tar.bz2', { name: '44' })
  await t.rejects(prepareStick({ out: join(dir, 'media', 'stick'), builds: [{ tarball: good }] }),
    { code: 'E_NOT_FOUND', message: /media\/stick does not exist: mount the stick there first/ })
  t.same(readdirSync(dir), ['b'], 'nothing created')
})

t.test('a stick folder that already holds something is refused untouched', async (t) => {
  const dir = t.testdir({ b: {}, stick: { 'xs-xobuilds': { 'old-tree.tar.bz2': 'old' } }, stick2: { 'xs-xobuilds': 'a file' } })
  const good = makeBuild(join(dir, 'b'), 'os44-tree.tar.bz2', { name: '44' })
  await t.rejects(prepareStick({ out: join(dir, 'stick'), builds: [{ tarball: good }] }),
    { code: 'E_USAGE', message: /xs-xobuilds already holds old-tree\.tar\.bz2.*nothing extraneous/ })
  t.same(readdirSync(join(dir, 'stick')), ['xs-xobuilds'])
  t.same(readdirSync(join(dir, 'stick', 'xs-xobuilds')), ['old-tree.tar.bz2'])
  await t.rejects(prepareStick({ out: join(dir, 'stick2'), builds: [{ tarball: good }] }), { code: 'E_USAGE', message: /not a folder/ })
})

t.test('not enough room on the stick: E_NO_SPACE saying how much is needed and free', async (t) => {
  const dir = t.testdir({ b: {}, stick: {} })
  const big = makeBuild(join(dir, 'b'), 'os44-tree.tar.xz', { name: '44', payload: 3 * 1024 * 1024 })
  const out = join(dir, 'stick')
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'xs-test', out])
  // the suite runs as root (loop devices, mounts): a tmpfs that cannot be mounted is a failure, not a skip
  if (m.status !== 0) {
    t.fail(`cannot mount a small tmpfs at ${out}: ${m.stderr.toString().trim()}`)
    return
  }
  try {
    await t.rejects(prepareStick({ out, builds: [{ tarball: big }] }), { code: 'E_NO_SPACE', message: /stick needs [45] MB for these builds but has 2 MB free/, actual: 2 * 1024 * 1024 })
    t.same(readdirSync(out), [])
  } finally {
    spawnSync('umount', [out])
  }
})
