/**
 * Benchmark (on demand, root): big builds still work (issue 11).
 *   node --import tsx bench/big-builds.ts       (npm run bench:big-builds)
 *   XS_BENCH_ONLY=250k,2g,refresh                (default: all three parts)
 *   XS_BENCH_LESS=bytes,inodes                   (which "less" runs; default both)
 *   XS_BENCH_COMMANDS=publish,ingest             (default both)
 *
 * 1. Publish and ingest of a 250,000-entry build (test/lib/many-entries-tar,
 *    .tar.bz2 by lbzip2 -9) and of a 2 GB build (this machine's
 *    /usr/share, /usr/lib/x86_64-linux-gnu and /usr/lib/jvm, over 2 GiB
 *    unpacked, .tar.bz2 by lbzip2 -9) on a store that has just enough room.
 *    The store is its own ext4 (bench/lib/store-image: a loop-mounted image,
 *    mkfs.ext4 defaults, so with a journal). The ingest reads the build from
 *    a stick image (ext4 on a loop device, mounted read-only) whose
 *    manifest.sha256 and manifest.sha1 are signed by a key made for the run.
 *    For each build and each command:
 *    - roomy: a store with plenty of room; the file system's free bytes and
 *      inodes are sampled every 20 ms, which gives what the job uses at its
 *      peak;
 *    - just enough: a new store whose free bytes and inodes are set with
 *      ballast to what the code asks for, and no more than PAD beyond it:
 *        bytes:  max(the ingest's pre-check: copy + 3 x tarball + reserve,
 *                    peak use + reserve (the unpack's watch keeps the reserve free))
 *        inodes: peak use + the watch's inode reserve (DEFAULT_RESERVE_INODES)
 *      it must succeed;
 *    - less bytes / less inodes: the same, SHORT bytes or inodes below what
 *      the peak and the reserve need; it must fail with E_NO_SPACE (exit 5)
 *      and leave nothing half-written: no build served or recorded, no
 *      module in the rsync config, nothing in ROOT/tmp, for the ingest
 *      nothing copied into xobuilds-packed, and the store's free bytes and
 *      inodes back to what they were before (within 1 MiB and 16 inodes: the
 *      job's history).
 * 2. refresh with 20 published real-size builds and nothing changed: one
 *    build of XS_BENCH_REFRESH_ENTRIES (default 120,000) entries is
 *    published by `xs-rsync refresh`, and 19 more are cloned from it: their
 *    tarballs hardlinked under their own names in xobuilds-packed with their
 *    own .md5, .contents and .name, their trees `cp -al` (the same files,
 *    new folders), their ownership data and records copied with the names
 *    changed. A refresh reads only the records, xobuilds-packed (stat and
 *    the small files) and each build's served symlink and tree root, so
 *    the clones cost it what published builds cost. A library refresh then
 *    checks that all 20 are unchanged. Measured: `xs-rsync refresh` as a
 *    whole CLI run, XS_BENCH_REFRESH_RUNS (default 10) times with the page
 *    cache warm and 3 times right after dropping it, and the library call.
 * Prints each figure against its target; bench/out/big-builds-TAG.json. Wall
 * times on a shared machine are noisy: CPU time is given beside them.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { copyFile, link, mkdir, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { availableParallelism, loadavg } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULT_CONFIG, type XsConfig } from '@xs-rsync/core'
import { spaceNeeded } from '@xs-rsync/agent'
import { DEFAULT_RESERVE_INODES, refresh } from '@xs-rsync/publisher'
import { median } from './lib/measure.js'
import { manyEntriesTarball } from './lib/many-entries-build.js'
import { packBuild } from './lib/pack-build.js'
import { realFilesTarball } from './lib/real-files-corpus.js'
import { runWatchingFs, type WatchedRun } from './lib/run-watching-fs.js'
import { makeSignedStick, type SignedStick } from './lib/signed-stick.js'
import { dropCaches } from './lib/stick-image.js'
import { makeStoreImage, type StoreImage } from './lib/store-image.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const out = join(here, 'out', 'big')
/** Runs with different parts can go side by side: each has its own folder and result file. */
const TAG = [process.env.XS_BENCH_ONLY, process.env.XS_BENCH_COMMANDS, process.env.XS_BENCH_LESS].filter((x) => x !== undefined).join('-').replace(/[^a-z0-9]+/gi, '-') || 'all'
const work = join(out, `run-${TAG}`)
const bin = join(here, '..', 'packages', 'xs-rsync', 'bin', 'xs-rsync.js')
const MiB = 1024 * 1024
const GiB = 1024 * MiB
const ONLY = process.env.XS_BENCH_ONLY?.split(',') ?? ['250k', '2g', 'refresh']
const RESERVE = DEFAULT_CONFIG.reserveBytes
/** Room given beyond what the code asks for in the "just enough" runs. */
const PAD_BYTES = 4 * MiB
const PAD_INODES = 64
/** How far below what the peak and the reserve need the "less" runs are. */
const SHORT_BYTES = 32 * MiB
const SHORT_INODES = 1000
/** Which commands (XS_BENCH_COMMANDS, default both). */
const COMMANDS = (process.env.XS_BENCH_COMMANDS?.split(',') ?? ['publish', 'ingest']).filter((c): c is 'publish' | 'ingest' => c === 'publish' || c === 'ingest')
/** Which "less" runs to make (XS_BENCH_LESS, default both). */
const LESS = process.env.XS_BENCH_LESS?.split(',') ?? ['bytes', 'inodes']
const REFRESH_ENTRIES = Number(process.env.XS_BENCH_REFRESH_ENTRIES ?? 120_000)
const REFRESH_BUILDS = 20
const REFRESH_RUNS = Number(process.env.XS_BENCH_REFRESH_RUNS ?? 10)
/** The folders of the 2 GB build. */
const TWO_GB_DIRS = ['usr/share', 'usr/lib/x86_64-linux-gnu', 'usr/lib/jvm']

interface Big { key: string, name: string, tarball: string, note: string }
interface Row { build: string, command: string, store: string, run: WatchedRun, free: { bytes: number, inodes: number }, expect: 'pass' | 'E_NO_SPACE', ok: boolean, why: string }

const mib = (n: number): string => (n / MiB).toFixed(1)
const cpu = (r: WatchedRun): string => (r.userSeconds + r.systemSeconds).toFixed(1)

const storePaths = (img: StoreImage): { root: string, conf: string, template: string } =>
  // no template file: the built-in one
  ({ root: join(img.mountpoint, 'store'), conf: join(img.mountpoint, 'etc', 'xs-rsyncd.conf'), template: join(img.mountpoint, 'etc', 'none.in') })
const cliArgs = (img: StoreImage): string[] => {
  const p = storePaths(img)
  return ['--root', p.root, '--rsyncd-conf', p.conf, '--rsyncd-template', p.template, '--no-syslog', '-q']
}

const listOrEmpty = async (dir: string): Promise<string[]> => readdir(dir).catch(() => [])

/** What a failed job must not leave behind; empty when nothing. */
const leftovers = async (img: StoreImage, run: WatchedRun, packedBefore: string[]): Promise<string[]> => {
  const { root, conf } = storePaths(img)
  const bad: string[] = []
  const served = (await listOrEmpty(join(root, 'pub', 'builds'))).filter((f) => f !== '.trees')
  if (served.length > 0) bad.push(`served: ${served.join(', ')}`)
  const trees = await listOrEmpty(join(root, 'pub', 'builds', '.trees'))
  if (trees.length > 0) bad.push(`trees: ${trees.join(', ')}`)
  const records = await listOrEmpty(join(root, 'state', 'builds'))
  if (records.length > 0) bad.push(`records: ${records.join(', ')}`)
  const tmp = await listOrEmpty(join(root, 'tmp'))
  if (tmp.length > 0) bad.push(`ROOT/tmp: ${tmp.join(', ')}`)
  const packed = (await listOrEmpty(join(root, 'xobuilds-packed'))).sort()
  if (packed.join('\n') !== [...packedBefore].sort().join('\n')) bad.push(`xobuilds-packed: ${packed.join(', ')} (before: ${packedBefore.join(', ')})`)
  if (existsSync(conf) && (await readFile(conf, 'utf8')).includes('[build-')) bad.push('a build module in the rsync config')
  if (run.after.freeBytes < run.before.freeBytes - MiB) bad.push(`${mib(run.before.freeBytes - run.after.freeBytes)} MiB less free than before`)
  if (run.after.freeInodes < run.before.freeInodes - 16) bad.push(`${run.before.freeInodes - run.after.freeInodes} inodes fewer free than before`)
  return bad
}

/** One job on a new store image with `free` bytes and inodes left free (undefined: a roomy store). */
const runOnStore = async (b: Big, command: 'publish' | 'ingest', stick: SignedStick | undefined, free: { bytes: number, inodes: number } | undefined): Promise<{ run: WatchedRun, img: StoreImage, packedBefore: string[] }> => {
  const roomy = { bytes: 12 * GiB, inodes: 700_000 }
  const size = free === undefined ? roomy.bytes : Math.ceil(free.bytes * 1.1) + (command === 'publish' ? (await fileSize(b.tarball)) : 0) + 512 * MiB
  const inodes = free === undefined ? roomy.inodes : free.inodes + 20_000
  const img = makeStoreImage(join(work, `store-${b.key}.img`), join(work, `store-${b.key}`), size, inodes)
  const { root } = storePaths(img)
  await mkdir(join(root, 'xobuilds-packed'), { recursive: true })
  await mkdir(join(img.mountpoint, 'etc'))
  let cmd: string[]
  if (command === 'publish') {
    const tarball = await packBuild(join(root, 'xobuilds-packed'), b.tarball, `os-${b.key}`, 'tar.bz2', b.name)
    cmd = [process.execPath, bin, 'publish', tarball, ...cliArgs(img)]
  } else {
    if (stick === undefined) throw new Error('no stick for the ingest')
    cmd = [process.execPath, bin, 'ingest', ...cliArgs(img), '--keyring', stick.keys, stick.image.mountpoint]
  }
  const packedBefore = await listOrEmpty(join(root, 'xobuilds-packed'))
  if (free !== undefined) img.leaveFree(free.bytes, free.inodes)
  dropCaches()
  const run = await runWatchingFs(cmd, img.mountpoint)
  return { run, img, packedBefore }
}

const fileSize = async (f: string): Promise<number> => (await stat(f)).size

const bigBuild = async (b: Big, rows: Row[]): Promise<void> => {
  // the stick only when the ingest runs (prepare-stick checks the whole archive)
  const stick = COMMANDS.includes('ingest') ? await makeSignedStick(join(work, `stick-${b.key}`), [{ source: b.tarball, base: `os-${b.key}`, name: b.name, ext: 'tar.bz2' }]) : undefined
  try {
    for (const command of COMMANDS) {
      // roomy: what the job uses at its peak
      const roomy = await runOnStore(b, command, stick, undefined)
      const record = join(storePaths(roomy.img).root, 'state', 'builds', `${b.name}.json`)
      const rec = existsSync(record) ? JSON.parse(await readFile(record, 'utf8')) as { entries: number, bytes: number } : undefined
      roomy.img.dispose()
      if (roomy.run.rc !== 0 || rec === undefined) {
        rows.push({ build: b.key, command, store: 'roomy', run: roomy.run, free: { bytes: roomy.run.before.freeBytes, inodes: roomy.run.before.freeInodes }, expect: 'pass', ok: false, why: `exit ${roomy.run.rc}: ${roomy.run.stderr.trim().split('\n')[0]}` })
        continue
      }
      const useBytes = roomy.run.before.freeBytes - roomy.run.least.freeBytes
      const useInodes = roomy.run.before.freeInodes - roomy.run.least.freeInodes
      rows.push({ build: b.key, command, store: 'roomy', run: roomy.run, free: { bytes: roomy.run.before.freeBytes, inodes: roomy.run.before.freeInodes }, expect: 'pass', ok: true,
        why: `published ${rec.entries} entries, ${mib(rec.bytes)} MiB; peak use ${mib(useBytes)} MiB and ${useInodes} inodes` })
      const tarballBytes = await fileSize(b.tarball)
      const precheck = command === 'ingest' ? spaceNeeded(stick?.buildBytes.get(b.name) ?? NaN, tarballBytes, RESERVE).total : 0
      const watched = useBytes + RESERVE
      const need = { bytes: Math.max(precheck, watched) + PAD_BYTES, inodes: useInodes + DEFAULT_RESERVE_INODES + PAD_INODES }
      const why = `need: bytes max(pre-check ${command === 'ingest' ? mib(precheck) : '-'}, peak + reserve ${mib(watched)}) MiB, inodes peak + ${DEFAULT_RESERVE_INODES}`
      const all: Array<{ store: string, free: { bytes: number, inodes: number }, expect: 'pass' | 'E_NO_SPACE' }> = [
        { store: 'just enough', free: need, expect: 'pass' },
        { store: `${mib(SHORT_BYTES)} MiB less`, free: { bytes: Math.max(precheck, watched) - SHORT_BYTES, inodes: need.inodes }, expect: 'E_NO_SPACE' },
        { store: `${SHORT_INODES} inodes less`, free: { bytes: need.bytes, inodes: useInodes + DEFAULT_RESERVE_INODES - SHORT_INODES }, expect: 'E_NO_SPACE' },
      ]
      const cases = all.filter((c) => c.expect === 'pass' || LESS.includes(c.store.endsWith('inodes less') ? 'inodes' : 'bytes'))
      for (const c of cases) {
        const r = await runOnStore(b, command, stick, c.free)
        let ok: boolean
        let note: string
        if (c.expect === 'pass') {
          const recFile = join(storePaths(r.img).root, 'state', 'builds', `${b.name}.json`)
          const servedRoot = join(storePaths(r.img).root, 'pub', 'builds', b.name, 'root')
          ok = r.run.rc === 0 && existsSync(recFile) && existsSync(servedRoot)
          note = ok ? `published; ${mib(r.run.least.freeBytes)} MiB and ${r.run.least.freeInodes} inodes free at the least` : `exit ${r.run.rc}: ${r.run.stderr.trim().split('\n')[0]}`
        } else {
          const left = await leftovers(r.img, r.run, r.packedBefore)
          ok = r.run.rc === 5 && /space|inodes/.test(r.run.stderr) && left.length === 0
          note = `exit ${r.run.rc}: ${r.run.stderr.trim().split('\n').find((l) => /space|inode/.test(l)) ?? r.run.stderr.trim().split('\n')[0]}; ` +
            (left.length === 0 ? 'nothing left behind' : `LEFT BEHIND: ${left.join('; ')}`)
        }
        r.img.dispose()
        rows.push({ build: b.key, command, store: c.store, run: r.run, free: c.free, expect: c.expect, ok, why: `${note} (${why})` })
        process.stdout.write(`${b.key} ${command} ${c.store}: ${ok ? 'as expected' : 'NOT as expected'}: ${note}\n`)
      }
    }
  } finally {
    stick?.dispose()
  }
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex')

/** Build `name` (BASE osNAME) as a clone of the published build `from`: see the header. */
const cloneBuild = async (root: string, from: string, name: string): Promise<void> => {
  const packed = join(root, 'xobuilds-packed')
  const rec = JSON.parse(await readFile(join(root, 'state', 'builds', `${from}.json`), 'utf8')) as Record<string, unknown> & { tree: string, tarball: string, md5: string }
  const tarball = `os${name}-tree.tar.bz2`
  await link(join(packed, rec.tarball), join(packed, tarball))
  const md5Text = `${rec.md5}  ${tarball}\n`
  const contents = `{"build":"${name}"}\n`
  await writeFile(join(packed, `${tarball}.md5`), md5Text)
  await writeFile(join(packed, `os${name}.contents`), contents)
  await writeFile(join(packed, `os${name}.name`), `${name}\n`)
  const tree = `${name}@${rec.tree.slice(rec.tree.indexOf('@') + 1)}`
  const trees = join(root, 'pub', 'builds', '.trees')
  execFileSync('cp', ['-al', join(trees, rec.tree), join(trees, tree)])
  for (const f of await listOrEmpty(join(root, 'state', 'ownership'))) {
    if (f.startsWith(`${rec.tree}.`)) await copyFile(join(root, 'state', 'ownership', f), join(root, 'state', 'ownership', `${tree}${f.slice(rec.tree.length)}`))
  }
  await symlink(`.trees/${tree}`, join(root, 'pub', 'builds', name))
  const clone = { ...rec, name, tree, tarball, md5FileHash: sha256(md5Text), contentsHash: sha256(contents) }
  await writeFile(join(root, 'state', 'builds', `${name}.json`), JSON.stringify(clone, null, 2) + '\n')
}

interface RefreshFigures { entries: number, publishSeconds: number, cloneSeconds: number, warm: WatchedRun[], cold: WatchedRun[], libraryMs: number[] }

const refreshPart = async (): Promise<RefreshFigures> => {
  const many = manyEntriesTarball(out, REFRESH_ENTRIES)
  const img = makeStoreImage(join(work, 'store-refresh.img'), join(work, 'store-refresh'), 4 * GiB, 400_000)
  try {
    const { root, conf, template } = storePaths(img)
    await mkdir(join(img.mountpoint, 'etc'))
    const config: XsConfig = { ...DEFAULT_CONFIG, root, rsyncdConf: conf, rsyncdTemplate: template, backend: 'fake-super' }
    await packBuild(join(root, 'xobuilds-packed'), many.tarball, 'os900', 'tar.bz2', '900')
    const refreshCmd = [process.execPath, bin, 'refresh', ...cliArgs(img)]
    const first = await runWatchingFs(refreshCmd, img.mountpoint)
    if (first.rc !== 0) throw new Error(`refresh (publishing build 900) exited ${first.rc}: ${first.stderr}`)
    const t0 = performance.now()
    for (let i = 1; i < REFRESH_BUILDS; i++) await cloneBuild(root, '900', String(900 + i))
    const cloneSeconds = (performance.now() - t0) / 1000
    const check = await refresh({ config })
    if (check.unchanged.length !== REFRESH_BUILDS || check.published.length + check.failed.length + check.removed.length !== 0) {
      throw new Error(`after cloning, refresh found ${check.unchanged.length} unchanged, ${check.published.length} published, ${check.failed.length} failed, ${check.removed.length} removed`)
    }
    const rec = JSON.parse(await readFile(join(root, 'state', 'builds', '900.json'), 'utf8')) as { entries: number }
    const warm: WatchedRun[] = []
    await runWatchingFs(refreshCmd, img.mountpoint) // warms the cache
    for (let i = 0; i < REFRESH_RUNS; i++) {
      const r = await runWatchingFs(refreshCmd, img.mountpoint)
      if (r.rc !== 0) throw new Error(`refresh exited ${r.rc}: ${r.stderr}`)
      warm.push(r)
    }
    const cold: WatchedRun[] = []
    for (let i = 0; i < 3; i++) {
      dropCaches()
      const r = await runWatchingFs(refreshCmd, img.mountpoint)
      if (r.rc !== 0) throw new Error(`refresh exited ${r.rc}: ${r.stderr}`)
      cold.push(r)
    }
    const libraryMs: number[] = []
    for (let i = 0; i < REFRESH_RUNS; i++) {
      const t = performance.now()
      const r = await refresh({ config })
      libraryMs.push(performance.now() - t)
      if (r.unchanged.length !== REFRESH_BUILDS) throw new Error(`expected ${REFRESH_BUILDS} unchanged, got ${r.unchanged.length}`)
    }
    return { entries: rec.entries, publishSeconds: first.seconds, cloneSeconds, warm, cold, libraryMs }
  } finally {
    img.dispose()
  }
}

const main = async (): Promise<void> => {
  await mkdir(work, { recursive: true })
  const rows: Row[] = []
  const bigs: Big[] = []
  if (ONLY.includes('250k')) {
    const m = manyEntriesTarball(out, 250_000)
    bigs.push({ key: '250k', name: 'big250k', tarball: m.tarball, note: `${m.names} names` })
  }
  if (ONLY.includes('2g')) {
    const c = await realFilesTarball(join(out, '2g'), 'bz2', TWO_GB_DIRS)
    bigs.push({ key: '2g', name: 'big2g', tarball: c.tarball, note: `${c.entries} entries, /${TWO_GB_DIRS.join(', /')}` })
  }
  const loads: number[] = [loadavg()[0] ?? NaN]
  for (const b of bigs) {
    process.stdout.write(`${b.key}: ${basename(b.tarball)}, ${mib(await fileSize(b.tarball))} MiB, ${b.note}\n`)
    await bigBuild(b, rows)
    loads.push(loadavg()[0] ?? NaN)
  }
  const refreshed = ONLY.includes('refresh') ? await refreshPart() : undefined
  loads.push(loadavg()[0] ?? NaN)
  await rm(work, { recursive: true, force: true })

  const lines = [`${availableParallelism()} CPUs; 1-minute load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} during the run; reserve ${mib(RESERVE)} MiB and ${DEFAULT_RESERVE_INODES} inodes`, '',
    '| build | command | store | free bytes MiB | free inodes | expected | result | wall s | CPU s (user + system) | peak RSS MiB, largest process | what happened |',
    '|---|---|---|---|---|---|---|---|---|---|---|']
  for (const r of rows) {
    lines.push(`| ${r.build} | ${r.command} | ${r.store} | ${mib(r.free.bytes)} | ${r.free.inodes} | ${r.expect} | ${r.ok ? 'as expected' : 'NOT as expected'} | ${r.run.seconds.toFixed(1)} | ${cpu(r.run)} | ${r.run.maxRssMiB.toFixed(0)} | ${r.why} |`)
  }
  const checks: string[] = []
  const met = (ok: boolean): string => ok ? 'met' : 'NOT met'
  for (const key of new Set(rows.map((r) => r.build))) {
    const mine = rows.filter((r) => r.build === key)
    checks.push(`${key} build: publish and ingest pass with just enough room, fail cleanly with E_NO_SPACE with a little less: ${met(mine.length === COMMANDS.length * (2 + LESS.length) && mine.every((r) => r.ok))}${LESS.length < 2 || COMMANDS.length < 2 ? ` (only ${COMMANDS.join(', ')}; less ${LESS.join(', ')})` : ''}`)
  }
  if (refreshed !== undefined) {
    const ms = (rs: WatchedRun[]): number[] => rs.map((r) => r.seconds * 1000)
    const w = ms(refreshed.warm)
    const c = ms(refreshed.cold)
    lines.push('', `refresh: ${REFRESH_BUILDS} published builds of ${refreshed.entries} entries each (build 900 published by refresh in ${refreshed.publishSeconds.toFixed(1)} s, 19 clones in ${refreshed.cloneSeconds.toFixed(1)} s), nothing changed`, '',
      '| what | runs | median ms | max ms | each run ms | CPU ms, user + system (median) |', '|---|---|---|---|---|---|',
      `| \`xs-rsync refresh\` (whole CLI run), page cache warm | ${w.length} | ${median(w).toFixed(0)} | ${Math.max(...w).toFixed(0)} | ${w.map((x) => x.toFixed(0)).join(', ')} | ${median(refreshed.warm.map((r) => (r.userSeconds + r.systemSeconds) * 1000)).toFixed(0)} |`,
      `| \`xs-rsync refresh\` (whole CLI run), page cache dropped before each | ${c.length} | ${median(c).toFixed(0)} | ${Math.max(...c).toFixed(0)} | ${c.map((x) => x.toFixed(0)).join(', ')} | ${median(refreshed.cold.map((r) => (r.userSeconds + r.systemSeconds) * 1000)).toFixed(0)} |`,
      `| refresh() in the library, warm | ${refreshed.libraryMs.length} | ${median(refreshed.libraryMs).toFixed(0)} | ${Math.max(...refreshed.libraryMs).toFixed(0)} | ${refreshed.libraryMs.map((x) => x.toFixed(0)).join(', ')} | - |`)
    checks.push(`refresh, ${REFRESH_BUILDS} builds of ${refreshed.entries} entries, nothing changed, whole CLI run, warm: median ${median(w).toFixed(0)} ms, max ${Math.max(...w).toFixed(0)} ms (target < 300): ${met(Math.max(...w) < 300)}`)
    checks.push(`the same, page cache dropped: median ${median(c).toFixed(0)} ms, max ${Math.max(...c).toFixed(0)} ms (target < 300): ${met(Math.max(...c) < 300)}`)
  }
  process.stdout.write(`\n${lines.join('\n')}\n\nTargets:\n${checks.map((c) => `- ${c}`).join('\n')}\n`)
  await writeFile(join(here, 'out', `big-builds-${TAG}.json`), JSON.stringify({ date: new Date().toISOString(), loads, rows, refreshed, checks }, null, 2) + '\n')
}

await main()
