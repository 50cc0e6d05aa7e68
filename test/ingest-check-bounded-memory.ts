// `ingest --check` (and so prepare-stick's read-back at the NOC) runs every
// archive through the whole unpack path, and its memory does not grow with
// the build either: a signed stick holding a 100,000-entry archive is
// checked through the built CLI with the V8 heap capped. The check makes the
// names as empty files in a throwaway folder (the store's tmp here) and
// removes it; one left by a killed check is removed by the next check.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { makeKey } from '../packages/agent/test/lib/gpg.js'
import { makeStick } from '../packages/agent/test/lib/stick.js'
import { writeManyEntriesTar } from './lib/many-entries-tar.js'
import { addPackedBuild, testStore } from './lib/test-store.js'
import { XS_BIN, configArgs } from './lib/xs-cli.js'

const HEAP_MIB = 24
const dir = t.testdir({})

/** The pid of a process that has ended. */
const deadPid = (): number => {
  const r = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' })
  return Number(r.stdout.trim())
}

t.test(`ingest --check of a 100,000-entry archive with a ${HEAP_MIB} MiB heap`, async (t) => {
  if (!existsSync(join(dirname(XS_BIN), '..', 'dist', 'cli.js'))) {
    t.fail('the built CLI is missing: run "npx tsc -b" first (npm test does)')
    return
  }
  const key = makeKey({ algo: 'ed25519', expire: '1y', uid: 'NOC <noc@example.invalid>' })
  t.teardown(() => key.dispose())
  // the NOC's side: the build files, then the stick
  const noc = testStore(join(dir, 'noc'))
  const tarFile = join(dir, 'many.tar')
  const shape = writeManyEntriesTar(tarFile, { entries: 100_000 })
  const files = addPackedBuild(noc, 'os100k', 'big', tarFile, 'xz')
  const stick = makeStick(join(dir, 'stick'), [files], { key })

  // the school's store, with a folder a killed check left in its tmp
  const config = testStore(join(dir, 'school'))
  mkdirSync(config.keyring, { recursive: true })
  writeFileSync(join(config.keyring, 'noc.gpg'), key.binary)
  const storeTmp = join(config.root, 'tmp')
  const osTmp = join(dir, 'os-tmp')
  mkdirSync(osTmp)
  const stale = `xs-rsync-check.${deadPid()}.AbCd12`
  mkdirSync(join(storeTmp, stale, 'tree', 'usr'), { recursive: true })
  writeFileSync(join(storeTmp, 'unrelated.txt'), 'not the check\'s\n')

  // `env -i`: tap adds its own loaders to NODE_OPTIONS of every child; they would count against the heap.
  const r = spawnSync('env', ['-i', `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, `TMPDIR=${osTmp}`, process.execPath, `--max-old-space-size=${HEAP_MIB}`,
    XS_BIN, 'ingest', '--check', '--keyring', config.keyring, stick, ...configArgs(config), '--no-syslog'], { encoding: 'utf8', timeout: 300_000 })
  t.equal(r.status, 0, r.stderr.slice(-2000))
  t.equal(r.signal, null, 'no signal (V8 did not run out of heap)')
  t.match(r.stderr, new RegExp(`Checking the archive of build big \\(every entry, as empty files in a throwaway folder in ${storeTmp}\\)`))
  t.match(r.stderr, new RegExp(`The archive of 1 build unpack cleanly \\(${shape.names} names, every check and limit; nothing kept\\)`), 'every name was made once')
  t.match(r.stderr, /CHECKED: .* would publish big; nothing was changed/)
  t.same(readdirSync(storeTmp), ['unrelated.txt'], 'the throwaway tree is removed, and the one a killed check left; nothing else is touched')
  t.same(readdirSync(osTmp), [], 'nothing in the OS temp folder')
  t.same(readdirSync(join(config.root, 'xobuilds-packed')), [], 'nothing copied')
})
