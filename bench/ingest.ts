/**
 * Benchmark (on demand, root): ingest of a stick read at USB-2 speed
 * (issue 11). The stick is an ext4 image on a loop device holding the
 * real-files corpus (this machine's own files, ~35k entries, .tar.bz2 by
 * `lbzip2 -9`) with a manifest.sha256 signed by a throwaway key; reads
 * from it are throttled to 30 MiB/s (cgroup v1 blkio), and the page cache
 * is dropped before every run. In each round, in an order that rotates
 * from round to round, run:
 *   read      cat of the tarball off the stick (what the stick allows)
 *   lbzip2    tar -I lbzip2 -xf of the tarball on the stick (what unpacking allows)
 *   ingest    xs-rsync ingest MOUNTPOINT
 *   original  bench/original-ingest.sh (cp, sha1sum -c, md5sum -c, fakeroot tar -xpjf)
 * and ingest, original and lbzip2 again on a one-CPU server (cpu cgroup
 * quota of one CPU, same stick). Prints medians, each run, peak RSS and
 * every ratio against its target. Nothing is deleted until all runs are
 * done (docs/performance.md: deleting a tree slows the next run's inodes).
 *
 *   node --import tsx bench/ingest.ts     (XS_BENCH_ROUNDS=3; XS_BENCH_STICK_BPS=31457280)
 *   XS_BENCH_ONLY=ingest,publish ...      (only those, interleaved: paired trials)
 */
import { availableParallelism, loadavg } from 'node:os'
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cpuQuota, limited, type CgroupLimit } from './lib/cgroup-limits.js'
import { ROUNDS, measure, median, ratio, type Measured } from './lib/measure.js'
import { makeRealFilesStick, USB2_BPS } from './lib/real-files-stick.js'
import { deviceBytesRead, dropCaches } from './lib/stick-image.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const out = join(here, 'out')
const bin = join(here, '..', 'packages', 'xs-rsync', 'bin', 'xs-rsync.js')
const MiB = 1024 * 1024
const STICK_BPS = Number(process.env.XS_BENCH_STICK_BPS ?? USB2_BPS)

interface Contender {
  key: string
  what: string
  /** The command, given a fresh output folder. */
  cmd: (dir: string) => string[]
  /** Made ready before the page cache is dropped. */
  prepare?: (dir: string) => Promise<void>
  oneCpu: boolean
}

const main = async (): Promise<void> => {
  const only = process.env.XS_BENCH_ONLY?.split(',')
  // paired trials get folders and cgroups of their own, so they can run beside a full run
  const tag = only === undefined ? '' : `-${only.join('-')}`
  const work = join(out, `ingest-run${tag}`)
  const stick = await makeRealFilesStick(join(out, 'real'), work, STICK_BPS, `xs-bench-stick${tag}`)
  const { corpus, image, onStick, usb2 } = stick
  const stickTarball = stick.tarball
  const oneCpu = cpuQuota(1, `xs-bench-cpu${tag}`)
  const limits: CgroupLimit[] = [usb2, oneCpu]

  const ingestCmd = (dir: string): string[] => [process.execPath, bin, 'ingest', '--no-syslog', '-q', '--root', join(dir, 'store'),
    '--rsyncd-conf', join(dir, 'xs-rsyncd.conf'), '--rsyncd-template', join(dir, 'none'), '--keyring', stick.keys, image.mountpoint]
  const packed = (dir: string): string => join(dir, 'store', 'xobuilds-packed')
  const all: Contender[] = [
    { key: 'read', what: 'reading the tarball off the stick (cat)', cmd: () => ['cat', stickTarball], oneCpu: false },
    { key: 'lbzip2', what: '`tar -I lbzip2 -xf` straight from the stick', cmd: (d) => ['tar', '-I', 'lbzip2', '-xf', stickTarball, '-C', d], oneCpu: false },
    { key: 'ingest', what: '`xs-rsync ingest MOUNTPOINT`', cmd: ingestCmd, oneCpu: false },
    { key: 'original', what: 'original: cp, sha1sum -c, md5sum -c, fakeroot -s STATE tar --numeric-owner -xpjf', cmd: (d) => ['bash', join(here, 'original-ingest.sh'), onStick, d], oneCpu: false },
    { key: 'ingest-1cpu', what: '`xs-rsync ingest`, one CPU', cmd: ingestCmd, oneCpu: true },
    { key: 'original-1cpu', what: 'original, one CPU', cmd: (d) => ['bash', join(here, 'original-ingest.sh'), onStick, d], oneCpu: true },
    { key: 'lbzip2-1cpu', what: '`tar -I lbzip2 -xf` from the stick, one CPU', cmd: (d) => ['tar', '-I', 'lbzip2', '-xf', stickTarball, '-C', d], oneCpu: true },
    // only with XS_BENCH_ONLY: the unpack alone, the tarball already on the store's disk (no stick, no copy, no signature)
    {
      key: 'publish', what: '`xs-rsync publish` of the same build from the store\'s disk', oneCpu: false,
      prepare: async (d) => {
        await mkdir(packed(d), { recursive: true })
        for (const f of ['os-real-tree.tar.bz2', 'os-real-tree.tar.bz2.md5', 'os-real.contents', 'os-real.name']) await copyFile(join(onStick, f), join(packed(d), f))
      },
      cmd: (d) => [process.execPath, bin, 'publish', join(packed(d), 'os-real-tree.tar.bz2'), '--no-syslog', '-q', '--root', join(d, 'store'),
        '--rsyncd-conf', join(d, 'xs-rsyncd.conf'), '--rsyncd-template', join(d, 'none')],
    },
  ]
  // XS_BENCH_ONLY=ingest,publish: those contenders only (paired trials); the targets need the default set
  const contenders = all.filter((c) => only === undefined ? c.key !== 'publish' : only.includes(c.key))
  const runs = new Map<string, Array<Measured & { read: number }>>(contenders.map((c) => [c.key, []]))
  const loads: number[] = []
  try {
    process.stdout.write(`stick: ${(corpus.bytes / MiB).toFixed(1)} MiB tarball, ${corpus.entries} entries, ${usb2.what}; ${ROUNDS} rounds\n`)
    for (let round = 0; round < ROUNDS; round++) {
      const order = contenders.map((_, i) => contenders[(i + round * 3) % contenders.length] as Contender)
      const line: string[] = []
      for (const c of order) {
        const dir = join(work, `${c.key}-${round}`)
        await mkdir(dir)
        await c.prepare?.(dir)
        loads.push(loadavg()[0] ?? NaN)
        dropCaches()
        const before = deviceBytesRead(image.device)
        const m = measure(limited(c.oneCpu ? limits : [usb2], c.cmd(dir)))
        runs.get(c.key)?.push({ ...m, read: deviceBytesRead(image.device) - before })
        line.push(`${c.key} ${m.seconds.toFixed(2)} s (CPU ${((m.userSeconds ?? 0) + (m.systemSeconds ?? 0)).toFixed(1)} s)`)
      }
      process.stdout.write(`round ${round + 1}: ${line.join(', ')}\n`)
    }
  } finally {
    oneCpu.remove()
    await stick.dispose()
    await rm(work, { recursive: true, force: true })
  }

  const med = (key: string): number => median((runs.get(key) ?? []).map((r) => r.seconds))
  process.stdout.write(`\nmedian of ${ROUNDS}; 1-minute load average before the runs ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} on ${availableParallelism()} CPUs\n`)
  process.stdout.write('| what | seconds (median) | each run | CPU s, user + system (median) | peak RSS MiB, largest process | all processes | read from the stick |\n| --- | --- | --- | --- | --- | --- | --- |\n')
  for (const c of contenders) {
    const rs = runs.get(c.key) ?? []
    const cpu = (f: (r: Measured) => number | undefined): string => median(rs.map((r) => f(r) ?? NaN)).toFixed(2)
    process.stdout.write(`| ${c.what} | ${med(c.key).toFixed(2)} | ${rs.map((r) => r.seconds.toFixed(2)).join(', ')} | ${cpu((r) => r.userSeconds)} + ${cpu((r) => r.systemSeconds)} | ${Math.max(...rs.map((r) => r.maxRssMiB)).toFixed(0)} | ` +
      `${Math.max(...rs.map((r) => r.treeRssMiB)).toFixed(0)} | ${(Math.max(...rs.map((r) => r.read)) / MiB).toFixed(1)} MiB |\n`)
  }
  if (only !== undefined) return
  const limit = Math.max(med('read'), med('lbzip2'))
  const verdict = (ok: boolean): string => ok ? 'met' : 'NOT met'
  const speedup = med('original') / med('ingest')
  const overLimit = med('ingest') / limit
  const speedup1 = med('original-1cpu') / med('ingest-1cpu')
  process.stdout.write(`\ningest vs original: ${ratio(med('original'), med('ingest'))}x (target >= 2.5x: ${verdict(speedup >= 2.5)})\n`)
  process.stdout.write(`ingest vs the limit (slower of reading the stick, ${med('read').toFixed(2)} s, and tar -I lbzip2 -xf from it, ${med('lbzip2').toFixed(2)} s): ` +
    `${overLimit.toFixed(2)}x (target <= 1.10x: ${verdict(overLimit <= 1.10)})\n`)
  process.stdout.write(`one CPU: ingest vs original: ${speedup1.toFixed(2)}x (target >= 1.5x: ${verdict(speedup1 >= 1.5)}); ingest vs tar -I lbzip2 -xf: ${ratio(med('ingest-1cpu'), med('lbzip2-1cpu'))}x\n`)
  const peak = Math.max(...(runs.get('ingest') ?? []).map((r) => r.treeRssMiB))
  process.stdout.write(`ingest, all processes together: ${peak.toFixed(0)} MiB peak (target < 150 MiB: ${verdict(peak < 150)})\n`)
  await writeFile(join(out, `ingest${tag}.json`), JSON.stringify({
    date: new Date().toISOString(), stickBytes: corpus.bytes, entries: corpus.entries, stickBps: STICK_BPS, loads,
    runs: Object.fromEntries(runs),
  }, null, 2) + '\n')
}

await main()
