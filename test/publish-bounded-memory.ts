// Memory does not grow with the build: a 100,000-entry archive (folders of
// small files, long GNU names, symlinks, hardlinks, setuid files) publishes
// through the built CLI with the V8 heap capped at 64 MiB. Before nothing
// was kept per entry, 66,000 entries needed more than 96 MiB of heap.
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { publishLayout, readBuildRecord } from '@xs-rsync/publisher'
import { writeManyEntriesTar } from './lib/many-entries-tar.js'
import { addPackedBuild, testStore } from './lib/test-store.js'
import { XS_BIN, configArgs } from './lib/xs-cli.js'

const HEAP_MIB = 64
const dir = t.testdir({})

t.test(`100,000 entries publish with a ${HEAP_MIB} MiB heap`, async (t) => {
  if (!existsSync(join(dirname(XS_BIN), '..', 'dist', 'cli.js'))) {
    t.fail('the built CLI is missing: run "npx tsc -b" first (npm test does)')
    return
  }
  const config = testStore(join(dir, 'store'))
  const tarFile = join(dir, 'many.tar')
  const shape = writeManyEntriesTar(tarFile, { entries: 100_000 })
  t.equal(shape.entries, 100_000)
  const packed = addPackedBuild(config, 'os100k', 'big', tarFile, 'xz')
  // `env -i`: tap adds its own loaders to NODE_OPTIONS of every child; they would count against the heap.
  const r = spawnSync('env', ['-i', `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, process.execPath, `--max-old-space-size=${HEAP_MIB}`,
    XS_BIN, 'publish', packed.tarball, ...configArgs(config), '--no-syslog'], { encoding: 'utf8', timeout: 300_000 })
  t.equal(r.status, 0, r.stderr.slice(-2000))
  t.match(r.stderr, /DONE: published build big/)
  const record = await readBuildRecord(publishLayout(config.root).records, 'big')
  t.equal(record?.entries, shape.names, 'every name of the archive is served')

  const root = join(publishLayout(config.root).builds, 'big', 'root')
  const stat = (rel: string): string => execFileSync('getfattr', ['-h', '-n', 'user.rsync.%stat', '--only-values', rel], { cwd: root, encoding: 'latin1' })
  const folder = 'usr/share/f0/pkg-0'
  t.equal(stat(`${folder}/file-0.txt`), '104755 0,0 0:0', 'a setuid file')
  t.equal(stat(`${folder}/file-1.txt`), '100644 0,0 0:0', 'a plain file')
  t.equal(stat('usr/share/f0'), '40755 0,0 0:0', 'a folder no entry lists')
  const names = readdirSync(join(root, folder))
  const long = names.find((n) => n.startsWith('long-'))
  t.ok(long !== undefined && readdirSync(join(root, folder, long)).every((n) => n.length > 200), 'long GNU names are unpacked whole')
  // the generator makes every 11th entry a symlink and every 13th a hardlink to the file before it
  const all = execFileSync('getfattr', ['-h', '-n', 'user.rsync.%stat', ...names], { cwd: join(root, folder), encoding: 'latin1', maxBuffer: 1 << 24 })
  const symlinks = [...all.matchAll(/^user\.rsync\.%stat="120777 0,0 0:0"$/gm)]
  t.ok(symlinks.length > 50, `symlinks served as such (${symlinks.length})`)
  const hardlinked = names.filter((n) => lstatSync(join(root, folder, n)).nlink > 1)
  t.ok(hardlinked.length > 50, `hardlinks kept (${hardlinked.length})`)
  t.match(readFileSync(config.rsyncdConf, 'utf8'), /\[build-big\]/)
})
