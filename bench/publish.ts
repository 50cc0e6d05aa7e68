/**
 * Benchmark (on demand): publishing one realistic build and refreshing a
 * store of 20 unchanged builds.   node --import tsx bench/publish.ts
 *
 * 1. `xs-rsync publish` of a synthetic OS tree (bench/lib/synthetic-os-tree:
 *    ~13,800 entries, 160 MiB of real OS file bytes) as .tar.bz2 (bzip2),
 *    .tar.xz in several blocks (`xz -T2`, as xz >= 5.6 writes by default) and
 *    .tar.xz in one block (`xz -T1`), for both ownership backends: wall time
 *    and peak RSS (largest process, and all processes together), side by
 *    side with the original way (`fakeroot -s STATE -- tar --numeric-owner
 *    -xpjf`/`-xpJf`) and with the fastest plain unpack (`tar -I lbzip2 -xf`,
 *    `tar -xJf`, no fakeroot, no checks); prints the ratios against the
 *    targets. Each contender runs XS_BENCH_ROUNDS times (default 3),
 *    interleaved, writing to this disk and then to tmpfs (/dev/shm), which
 *    shows the software's own cost without the disk's cost per new inode.
 *    XS_BENCH_CONTENT=made uses the generated content of the first figures.
 *    The page cache is dropped before every run, and every run writes a new
 *    folder: on the disk nothing is deleted until all runs are done (see
 *    PLACES).
 * 2. Refresh of 20 unchanged builds: the library call in-process (the
 *    budget is < 300 ms) and the whole CLI run (adds Node start-up).
 * Results: stdout and bench/out/publish.json.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULT_CONFIG, type Backend, type XsConfig } from '@xs-rsync/core'
import { refresh } from '@xs-rsync/publisher'
import { CONTENT, ROUNDS, measure, median, type Measured } from './lib/measure.js'
import { measureUnpackInto } from './lib/measure-unpack.js'
import { packBuild } from './lib/pack-build.js'
import { dropCaches } from './lib/stick-image.js'
import { writeSyntheticTarball, DEFAULT_SHAPE } from './lib/synthetic-os-tree.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const out = join(here, 'out')
const bin = join(here, '..', 'packages', 'xs-rsync', 'bin', 'xs-rsync.js')

const storeConfig = (dir: string, backend: Backend): XsConfig =>
  ({ ...DEFAULT_CONFIG, root: join(dir, 'store'), rsyncdConf: join(dir, 'rsyncd.conf'), rsyncdTemplate: join(dir, 'none.in'), backend })

const cli = (c: XsConfig): string[] => ['--root', c.root, '--rsyncd-conf', c.rsyncdConf, '--rsyncd-template', c.rsyncdTemplate, '--backend', c.backend, '--no-syslog', '--quiet']

/**
 * Where trees are written: this disk (next to the benchmark), and tmpfs, which
 * has no cost per inode. On the disk nothing is deleted until all runs are
 * done: on an ext4 without a journal (this VM's disk) the inodes of a tree
 * deleted shortly before make every new inode cost a scan, for whoever runs
 * next (see docs/performance.md). tmpfs has no such cost and little room.
 */
const PLACES: Record<string, { dir: string, keepUntilEnd: boolean }> = {
  disk: { dir: join(out, 'runs'), keepUntilEnd: true },
  tmpfs: { dir: '/dev/shm/xs-rsync-bench', keepUntilEnd: false },
}

const main = async (): Promise<void> => {
  await mkdir(out, { recursive: true })
  // format label -> [file, compressor]. `xz -T2` writes several blocks (as xz >= 5.6 does by default,
  // and `xz -T0`), which xz >= 5.4 can decode on several threads; `xz -T1` writes one block.
  const sources: Record<string, [string, string[]]> = {
    'tar.bz2': [join(out, `publish-src-${CONTENT}.tar.bz2`), ['bzip2', '-c']],
    'tar.xz': [join(out, `publish-src-${CONTENT}.tar.xz`), ['xz', '-c', '-T2', '-6']],
    'tar.xz, one block': [join(out, `publish-src-${CONTENT}-1block.tar.xz`), ['xz', '-c', '-T1', '-6']],
  }
  for (const [format, [file, compressor]] of Object.entries(sources)) {
    if (!existsSync(file)) {
      process.stdout.write(`making the synthetic tree (${format}, content ${CONTENT})...\n`)
      await writeSyntheticTarball(file, compressor, { ...DEFAULT_SHAPE, content: CONTENT })
    }
  }
  const results: Record<string, unknown> = { shape: DEFAULT_SHAPE, content: CONTENT, rounds: ROUNDS }
  const rows: string[] = ['| where | what | format | seconds (median) | each run | peak RSS MiB, largest process (max) | peak RSS MiB, all its processes (max) |', '|---|---|---|---|---|---|---|']
  const checks: string[] = []
  type Runner = { label: string, ext: string, run: (dir: string) => Promise<Measured> }
  /** Unpack `src` with `cmd` into `dir` (new). */
  const tarRunner = (label: string, ext: string, cmd: (dest: string, state: string) => string[]): Runner => ({
    label, ext,
    run: async (dir) => await measureUnpackInto(dir, cmd),
  })
  const publishRunner = (backend: Backend, ext: string, src: string): Runner => ({
    label: `xs-rsync publish, ${backend}`, ext,
    run: async (dir) => {
      const config = storeConfig(dir, backend)
      const tarball = await packBuild(join(config.root, 'xobuilds-packed'), src, 'os900', ext.split(',')[0] ?? ext, '900')
      dropCaches()
      return measure([process.execPath, bin, 'publish', tarball, ...cli(config)])
    },
  })
  const runners: Runner[] = []
  for (const [ext, [src]] of Object.entries(sources)) {
    const j = ext === 'tar.bz2' ? 'j' : 'J'
    runners.push(tarRunner(`original: fakeroot -s STATE -- tar --numeric-owner -xp${j}f`, ext,
      (d, st) => ['fakeroot', '-s', st, '--', 'tar', '--numeric-owner', `-xp${j}f`, src, '-C', d]))
    runners.push(ext === 'tar.bz2'
      ? tarRunner('tar -I lbzip2 -xf (no fakeroot, no checks)', ext, (d) => ['tar', '-I', 'lbzip2', '-xf', src, '-C', d])
      : tarRunner('tar -xJf (no fakeroot, no checks)', ext, (d) => ['tar', '-xJf', src, '-C', d]))
    for (const backend of ['fake-super', 'fakeroot'] as const) runners.push(publishRunner(backend, ext, src))
  }
  for (const [place, { dir: base, keepUntilEnd }] of Object.entries(PLACES)) {
    await rm(base, { recursive: true, force: true })
    const runs = new Map<Runner, Measured[]>()
    // rounds interleave the contenders, so a slow spell of the machine hits them all
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, r] of runners.entries()) {
        const dir = join(base, `${round}-${i}`)
        const m = await r.run(dir)
        if (!keepUntilEnd) await rm(dir, { recursive: true, force: true })
        runs.set(r, [...(runs.get(r) ?? []), m])
        process.stdout.write(`${place} round ${round + 1}: ${r.label} ${r.ext}: ${m.seconds.toFixed(2)} s\n`)
      }
    }
    await rm(base, { recursive: true, force: true })
    const med = (r: Runner): number => median((runs.get(r) ?? []).map((m) => m.seconds))
    for (const r of runners) {
      const ms = runs.get(r) ?? []
      rows.push(`| ${place} | ${r.label} | ${r.ext} | ${med(r).toFixed(2)} | ${ms.map((m) => m.seconds.toFixed(2)).join(', ')} | ${Math.max(...ms.map((m) => m.maxRssMiB)).toFixed(0)} | ${Math.max(...ms.map((m) => m.treeRssMiB)).toFixed(0)} |`)
      results[`${place} ${r.label} ${r.ext}`] = ms
    }
    for (const ext of Object.keys(sources)) {
      const [original, fast, ...mine] = runners.filter((r) => r.ext === ext)
      if (original === undefined || fast === undefined) continue
      for (const r of mine) {
        const vsOriginal = med(original) / med(r)
        const vsFast = med(fast) / med(r)
        const rss = Math.max(...(runs.get(r) ?? []).map((m) => m.maxRssMiB))
        const tree = Math.max(...(runs.get(r) ?? []).map((m) => m.treeRssMiB))
        const who = `${place}, ${r.label.replace('xs-rsync publish, ', '')} ${ext}`
        if (ext === 'tar.bz2') {
          checks.push(`${who}: ${vsOriginal.toFixed(2)}x the original's speed (target >= 2): ${vsOriginal >= 2 ? 'met' : 'NOT met'}`)
          checks.push(`${who}: ${vsFast.toFixed(2)}x the speed of tar -I lbzip2 -xf (target >= 0.8): ${vsFast >= 0.8 ? 'met' : 'NOT met'}`)
        } else {
          checks.push(`${who}: ${vsOriginal.toFixed(2)}x the original's speed; ${vsFast.toFixed(2)}x the speed of tar -xJf (target >= 1): ${vsFast >= 1 ? 'met' : 'NOT met'}`)
        }
        checks.push(`${who}: peak RSS ${rss.toFixed(0)} MiB, largest process (target < 150): ${rss < 150 ? 'met' : 'NOT met'}; all its processes together ${tree.toFixed(0)} MiB`)
      }
    }
  }
  results.checks = checks

  // 20 unchanged builds (small trees: the unchanged path reads no tarball)
  const dir = join(out, 'refresh-20')
  await rm(dir, { recursive: true, force: true })
  const config = storeConfig(dir, 'fake-super')
  const small = join(dir, 'small.tar.xz')
  await mkdir(dir, { recursive: true })
  await writeSyntheticTarball(small, ['xz', '-c', '-0'], { ...DEFAULT_SHAPE, content: CONTENT, dirs: 20, files: 50, symlinks: 5, hardlinks: 5, bytes: 256 * 1024 })
  for (let i = 0; i < 20; i++) await packBuild(join(config.root, 'xobuilds-packed'), small, `os${900 + i}`, 'tar.xz', String(900 + i))
  await refresh({ config })
  const times: number[] = []
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now()
    const r = await refresh({ config })
    times.push(performance.now() - t0)
    if (r.unchanged.length !== 20) throw new Error(`expected 20 unchanged, got ${r.unchanged.length}`)
  }
  const refreshMs = median(times)
  const cliRun = measure([process.execPath, bin, 'refresh', ...cli(config)])
  rows.push(`| disk | refresh, 20 unchanged builds (library, median of 10) | - | ${(refreshMs / 1000).toFixed(3)} | - | - | - |`)
  rows.push(`| disk | xs-rsync refresh, 20 unchanged builds (whole CLI run) | - | ${cliRun.seconds.toFixed(3)} | - | ${cliRun.maxRssMiB.toFixed(0)} | ${cliRun.treeRssMiB.toFixed(0)} |`)
  results['refresh 20 unchanged library ms'] = times
  results['refresh 20 unchanged cli'] = cliRun
  await rm(dir, { recursive: true, force: true })
  const cpu = execFileSync('nproc', { encoding: 'utf8' }).trim()
  checks.push(`refresh, 20 unchanged builds: ${refreshMs.toFixed(0)} ms in the library, ${(cliRun.seconds * 1000).toFixed(0)} ms for the whole CLI run with Node start-up (target < 300): ${refreshMs < 300 ? 'met' : 'NOT met'} (library)`)
  results.checks = checks
  process.stdout.write(`\n${cpu} CPUs\n${rows.join('\n')}\n\nTargets:\n${checks.map((c) => `- ${c}`).join('\n')}\n`)
  await writeFile(join(out, 'publish.json'), JSON.stringify({ cpus: Number(cpu), ...results }, null, 2) + '\n')
}

await main()
