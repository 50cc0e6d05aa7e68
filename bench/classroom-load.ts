/**
 * Benchmark (on demand): a classroom of 40 laptops pulling one realistic
 * build at once from the socket-activated daemon.
 *   node --import tsx bench/classroom-load.ts [CLIENTS]
 *
 * Same harness as test/serve-socket-load.ts (systemd-socket-activate
 * --accept running the installed xs-rsyncd@.service ExecStart as an
 * unprivileged user with CAP_DAC_READ_SEARCH), on the synthetic OS tree of
 * bench/lib/synthetic-os-tree.ts (~13,800 entries, 160 MiB), for both
 * ownership backends. Every client's tree is checked against the first
 * client's, file by file (the test checks trees against the archive).
 * Prints a Markdown table for docs/performance.md and writes
 * bench/out/classroom-load.json.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import type { Backend } from '@xs-rsync/core'
import { classroomLoad, handStoreTo } from '../test/lib/classroom-load.js'
import { dumpTree } from '../test/lib/dump-tree.js'
import { testStore } from '../test/lib/test-store.js'
import { compareTrees } from '../test/lib/tree-entry.js'
import { xsRsync } from '../test/lib/xs-cli.js'
import { writeSyntheticTarball } from './lib/synthetic-os-tree.js'

const CLIENTS = Number(process.argv[2] ?? 40)
const TEMPLATE = join(import.meta.dirname, '..', 'packages', 'xs-rsync', 'share', 'rsyncd.conf.in')
const OUT = join(import.meta.dirname, 'out')

const rows: Record<string, number | string>[] = []
for (const backend of ['fake-super', 'fakeroot'] as Backend[]) {
  const dir = mkdtempSync('/var/tmp/xs-classroom-')
  try {
    const config = { ...testStore(dir, backend), rsyncdTemplate: TEMPLATE }
    const tarball = join(config.root, 'xobuilds-packed', 'os900-tree.tar.bz2')
    const stats = await writeSyntheticTarball(tarball, ['lbzip2', '-n2', '-c'])
    execFileSync('sh', ['-c', `md5sum os900-tree.tar.bz2 > os900-tree.tar.bz2.md5 && echo 900 > os900.name && echo contents > os900.contents`],
      { cwd: join(config.root, 'xobuilds-packed') })
    handStoreTo(config)
    const r = xsRsync(config, ['refresh', '-q'], 1_800_000)
    if (r.status !== 0) throw new Error(`refresh failed: ${r.stderr}`)
    const load = await classroomLoad(config, 'build-900', join(dir, 'clients'), CLIENTS, 1_800_000)
    const failed = load.clients.filter((c) => c.status !== 0)
    if (failed.length > 0) throw new Error(`${failed.length} clients failed: ${failed[0]?.stderr}`)
    const first = dumpTree(join(load.clients[0]!.dest, 'root'), load.clients[0]!.state)
    for (const c of load.clients.slice(1)) {
      const diffs = compareTrees(first, dumpTree(join(c.dest, 'root'), c.state))
      if (diffs.length > 0) throw new Error(`${c.dest} differs: ${diffs.slice(0, 5).join('; ')}`)
    }
    const ms = load.clients.map((c) => c.ms).sort((a, b) => a - b)
    const row = {
      backend, clients: CLIENTS, entries: stats.entries, MiB: Math.round(stats.bytes / 1048576),
      wallSeconds: +(load.wallMs / 1000).toFixed(1),
      clientSecondsMin: +((ms[0] ?? 0) / 1000).toFixed(1),
      clientSecondsMedian: +((ms[Math.floor(ms.length / 2)] ?? 0) / 1000).toFixed(1),
      clientSecondsMax: +((ms.at(-1) ?? 0) / 1000).toFixed(1),
      peakConnections: load.peakConnections,
      peakTotalMiB: Math.round(load.peakTotalKiB / 1024),
      peakPerConnectionMiB: Math.round(load.peakConnectionKiB / 1024),
    }
    rows.push(row)
    console.error(JSON.stringify(row))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
mkdirSync(OUT, { recursive: true })
writeFileSync(join(OUT, 'classroom-load.json'), JSON.stringify({ cpus: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), rows }, null, 2) + '\n')
console.log(`Machine: ${cpus().length} CPUs, ${Math.round(totalmem() / 2 ** 30)} GiB RAM; server and ${CLIENTS} clients on the same machine (127.0.0.1).\n`)
console.log('| backend | clients | build | all done | per client (min / median / max) | connections at once (peak) | memory, all connections (peak) | memory, one connection (peak) |')
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |')
for (const r of rows) {
  console.log(`| ${r.backend} | ${r.clients} | ${r.entries} entries, ${r.MiB} MiB | ${r.wallSeconds} s | ${r.clientSecondsMin} / ${r.clientSecondsMedian} / ${r.clientSecondsMax} s | ` +
    `${r.peakConnections} | ${r.peakTotalMiB} MiB | ${r.peakPerConnectionMiB} MiB |`)
}
