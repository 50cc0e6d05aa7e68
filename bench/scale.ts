/**
 * Benchmark (on demand, root): real build sizes (issue 11).
 *   node --import tsx bench/scale.ts
 *
 * Corpora, made on first use in bench/out/scale (a fresh machine needs
 * nothing else):
 * - the real-files corpus (bench/lib/real-files-corpus: this machine's
 *   /usr/share/doc, man, /usr/lib/python3, many small files) as .tar.bz2 by
 *   `lbzip2 -9`, and as OOB writes it, `X.tree.tar.lzma` by `lzma -1`;
 * - synthetic builds of 20,000 and 250,000 entries (test/lib/many-entries-tar:
 *   folders of 1,000 small files, long GNU names, symlinks, hardlinks,
 *   setuid files) as .tar.bz2 by `lbzip2 -9`.
 * Contenders, each XS_BENCH_ROUNDS times (default 3), interleaved round by
 * round so a slow spell of the shared machine hits them all, page cache
 * dropped before each, trees written to this disk and removed only at the end:
 * - real .tar.bz2: the original (`fakeroot -s STATE -- tar --numeric-owner
 *   -xpjf`), `tar -I lbzip2 -xf`, `xs-rsync publish` (fake-super);
 * - real .tree.tar.lzma: `tar --lzma -xf`, `xs-rsync publish`;
 * - 20k and 250k entries: `xs-rsync publish`, for its peak RSS.
 * Then `refresh` of a store holding XS_BENCH_REFRESH_BUILDS (default 20)
 * publishes of the real-files corpus with nothing changed (library call,
 * median of 10). Prints each figure against its target; bench/out/scale.json.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULT_CONFIG, type XsConfig } from '@xs-rsync/core'
import { refresh } from '@xs-rsync/publisher'
import { ROUNDS, measure, median, type Measured } from './lib/measure.js'
import { measureUnpackInto } from './lib/measure-unpack.js'
import { manyEntriesTarball, type ManyEntriesBuild } from './lib/many-entries-build.js'
import { realFilesTarball } from './lib/real-files-corpus.js'
import { packBuild } from './lib/pack-build.js'
import { dropCaches } from './lib/stick-image.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const out = join(here, 'out', 'scale')
const bin = join(here, '..', 'packages', 'xs-rsync', 'bin', 'xs-rsync.js')
const REFRESH_BUILDS = Number(process.env.XS_BENCH_REFRESH_BUILDS ?? 20)

const storeConfig = (dir: string): XsConfig =>
  ({ ...DEFAULT_CONFIG, root: join(dir, 'store'), rsyncdConf: join(dir, 'rsyncd.conf'), rsyncdTemplate: join(dir, 'none.in'), backend: 'fake-super' })
const cli = (c: XsConfig): string[] => ['--root', c.root, '--rsyncd-conf', c.rsyncdConf, '--rsyncd-template', c.rsyncdTemplate, '--backend', c.backend, '--no-syslog', '--quiet']

const manyEntries = (entries: number): ManyEntriesBuild => manyEntriesTarball(out, entries)

interface Contender { label: string, group: string, run: (dir: string) => Promise<Measured> }

const tarContender = (group: string, label: string, cmd: (dest: string, state: string) => string[]): Contender => ({
  label, group,
  run: async (dir) => await measureUnpackInto(dir, cmd),
})

const publishContender = (group: string, label: string, src: string, ext: string): Contender => ({
  label, group,
  run: async (dir) => {
    const config = storeConfig(dir)
    const tarball = await packBuild(join(config.root, 'xobuilds-packed'), src, 'os900', ext, '900')
    dropCaches()
    return measure([process.execPath, bin, 'publish', tarball, ...cli(config)])
  },
})

const main = async (): Promise<void> => {
  await mkdir(out, { recursive: true })
  const bz2 = await realFilesTarball(join(out, 'real'), 'bz2')
  const lzma = await realFilesTarball(join(out, 'real'), 'lzma')
  process.stdout.write('making the 20k and 250k-entry builds...\n')
  const small = manyEntries(20_000)
  const large = manyEntries(250_000)
  const contenders: Contender[] = [
    tarContender('real bz2', 'original: fakeroot -s STATE -- tar --numeric-owner -xpjf', (d, st) => ['fakeroot', '-s', st, '--', 'tar', '--numeric-owner', '-xpjf', bz2.tarball, '-C', d]),
    tarContender('real bz2', 'tar -I lbzip2 -xf', (d) => ['tar', '-I', 'lbzip2', '-xf', bz2.tarball, '-C', d]),
    publishContender('real bz2', 'xs-rsync publish', bz2.tarball, 'tar.bz2'),
    tarContender('real lzma', 'tar --lzma -xf', (d) => ['tar', '--lzma', '-xf', lzma.tarball, '-C', d]),
    publishContender('real lzma', 'xs-rsync publish', lzma.tarball, 'tar.lzma'),
    publishContender('20k', 'xs-rsync publish', small.tarball, 'tar.bz2'),
    publishContender('250k', 'xs-rsync publish', large.tarball, 'tar.bz2'),
  ]
  const runsDir = join(out, 'runs')
  await rm(runsDir, { recursive: true, force: true })
  const runs = new Map<Contender, Measured[]>()
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, c] of contenders.entries()) {
      const m = await c.run(join(runsDir, `${round}-${i}`))
      runs.set(c, [...(runs.get(c) ?? []), m])
      process.stdout.write(`round ${round + 1}: ${c.group}, ${c.label}: ${m.seconds.toFixed(2)} s, peak RSS ${m.maxRssMiB.toFixed(0)} MiB (all processes ${m.treeRssMiB.toFixed(0)})\n`)
    }
  }
  await rm(runsDir, { recursive: true, force: true })
  const of = (group: string, label: string): Measured[] => runs.get(contenders.find((c) => c.group === group && c.label === label) as Contender) ?? []
  const med = (group: string, label: string): number => median(of(group, label).map((m) => m.seconds))
  const peak = (group: string, label: string, k: 'maxRssMiB' | 'treeRssMiB'): number => Math.max(...of(group, label).map((m) => m[k]))

  const rows = ['| corpus | what | seconds (median) | each run | peak RSS MiB, largest process | all its processes |', '|---|---|---|---|---|---|']
  for (const c of contenders) {
    const ms = runs.get(c) ?? []
    rows.push(`| ${c.group} | ${c.label} | ${median(ms.map((m) => m.seconds)).toFixed(2)} | ${ms.map((m) => m.seconds.toFixed(2)).join(', ')} | ` +
      `${Math.max(...ms.map((m) => m.maxRssMiB)).toFixed(0)} | ${Math.max(...ms.map((m) => m.treeRssMiB)).toFixed(0)} |`)
  }
  const checks: string[] = []
  const met = (ok: boolean): string => ok ? 'met' : 'NOT met'
  const pub = 'xs-rsync publish'
  const vsOriginal = med('real bz2', 'original: fakeroot -s STATE -- tar --numeric-owner -xpjf') / med('real bz2', pub)
  const vsLbzip2 = med('real bz2', 'tar -I lbzip2 -xf') / med('real bz2', pub)
  const vsLzma = med('real lzma', 'tar --lzma -xf') / med('real lzma', pub)
  checks.push(`real files (${bz2.entries} entries, .tar.bz2): ${vsOriginal.toFixed(2)}x the original's speed (target >= 2): ${met(vsOriginal >= 2)}`)
  checks.push(`real files (.tar.bz2): ${vsLbzip2.toFixed(2)}x the speed of tar -I lbzip2 -xf (target >= 0.9): ${met(vsLbzip2 >= 0.9)}`)
  checks.push(`real files (${lzma.entries} entries, OOB .tree.tar.lzma): ${vsLzma.toFixed(2)}x the speed of tar --lzma -xf (target >= 1): ${met(vsLzma >= 1)}`)
  const rss20 = peak('20k', pub, 'maxRssMiB')
  const rss250 = peak('250k', pub, 'maxRssMiB')
  const all = Math.max(...['real bz2', 'real lzma', '20k', '250k'].map((g) => peak(g, pub, 'treeRssMiB')))
  checks.push(`largest process: ${rss20.toFixed(0)} MiB at ${small.names} names, ${rss250.toFixed(0)} MiB at ${large.names} (target < 100): ${met(rss20 < 100 && rss250 < 100)}`)
  checks.push(`growth from 20k to 250k entries: ${(rss250 - rss20).toFixed(0)} MiB (target < 20): ${met(rss250 - rss20 < 20)}`)
  checks.push(`all of a publish's processes, largest of all runs: ${all.toFixed(0)} MiB (target < 150): ${met(all < 150)}`)

  // refresh with REFRESH_BUILDS real-size builds published and nothing changed
  const dir = join(out, 'refresh')
  await rm(dir, { recursive: true, force: true })
  const config = storeConfig(dir)
  for (let i = 0; i < REFRESH_BUILDS; i++) await packBuild(join(config.root, 'xobuilds-packed'), bz2.tarball, `os${900 + i}`, 'tar.bz2', String(900 + i))
  process.stdout.write(`publishing ${REFRESH_BUILDS} real-size builds for the refresh...\n`)
  await refresh({ config })
  const times: number[] = []
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now()
    const r = await refresh({ config })
    times.push(performance.now() - t0)
    if (r.unchanged.length !== REFRESH_BUILDS) throw new Error(`expected ${REFRESH_BUILDS} unchanged, got ${r.unchanged.length}`)
  }
  const refreshMs = median(times)
  await rm(dir, { recursive: true, force: true })
  rows.push(`| ${REFRESH_BUILDS} published real-files builds | refresh, nothing changed (library, median of 10) | ${(refreshMs / 1000).toFixed(3)} | - | - | - |`)
  checks.push(`refresh, ${REFRESH_BUILDS} real-size builds, nothing changed: ${refreshMs.toFixed(0)} ms (target < 300): ${met(refreshMs < 300)}`)

  const cpus = execFileSync('nproc', { encoding: 'utf8' }).trim()
  const load = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim()
  process.stdout.write(`\n${cpus} CPUs, load average at the end: ${load}\n${rows.join('\n')}\n\nTargets:\n${checks.map((c) => `- ${c}`).join('\n')}\n`)
  await writeFile(join(out, 'scale.json'), JSON.stringify({ cpus: Number(cpus), load, rounds: ROUNDS, corpora: { bz2, lzma, small, large }, runs: Object.fromEntries([...runs].map(([c, m]) => [`${c.group}: ${c.label}`, m])), refreshMs: times, checks }, null, 2) + '\n')
}

await main()
