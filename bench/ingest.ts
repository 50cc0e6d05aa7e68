/**
 * Benchmark (on demand, root): end-to-end ingest + publish of a realistic
 * stick (synthetic OS tree, .tar.bz2 made by bzip2), side by side with what
 * the original did (bench/original-ingest.sh) and with the floor (`tar -I
 * lbzip2 -xf` of the stick's tarball: no copy, no checks). Reports wall
 * time, peak RSS and the bytes read from the stick device (ext4 image on a
 * loop device, page cache dropped first).   node --import tsx bench/ingest.ts
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rm, writeFile, readFile, stat } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateSigningKey } from '@xs-rsync/agent'
import { writeSampleStick } from '../packages/xs-rsync/src/demo/sample-stick.js'
import { writeSyntheticTarball, DEFAULT_SHAPE } from './lib/synthetic-os-tree.js'
import { CONTENT, ROUNDS, measure, median, ratio, type Measured } from './lib/measure.js'
import { makeStickImage, dropCaches, deviceBytesRead } from './lib/stick-image.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const out = join(here, 'out')
const bin = join(here, '..', 'packages', 'xs-rsync', 'bin', 'xs-rsync.js')
const MiB = 1024 * 1024

const main = async (): Promise<void> => {
  await mkdir(out, { recursive: true })
  const build = join(out, `build-bz2-${CONTENT}`)
  await mkdir(build, { recursive: true })
  const tarball = join(build, 'os900-tree.tar.bz2')
  if (!existsSync(tarball)) {
    process.stdout.write('making the synthetic tree (bzip2)...\n')
    await writeSyntheticTarball(tarball, ['bzip2', '-c'], { ...DEFAULT_SHAPE, content: CONTENT })
  }
  const md5 = createHash('md5').update(await readFile(tarball)).digest('hex')
  await writeFile(`${tarball}.md5`, `${md5}  os900-tree.tar.bz2\n`)
  await writeFile(join(build, 'os900.contents'), '{"build":"900"}\n')
  await writeFile(join(build, 'os900.name'), '900\n')
  const files = { name: '900', tarball, md5File: `${tarball}.md5`, contentsFile: join(build, 'os900.contents'), nameFile: join(build, 'os900.name') }

  const work = join(out, 'ingest-run')
  await rm(work, { recursive: true, force: true })
  await mkdir(work, { recursive: true })
  const key = await generateSigningKey('Bench NOC (throwaway)', 'noc@bench.invalid')
  await mkdir(join(work, 'keys'))
  await writeFile(join(work, 'keys', 'noc.asc'), key.publicKey)
  const stickDir = join(work, 'stick-src')
  await writeSampleStick(stickDir, [files], key.secretKey)
  const stickBytes = (await stat(tarball)).size
  const image = makeStickImage(join(work, 'stick.img'), stickDir, join(work, 'stick'), Math.ceil(stickBytes / MiB) * 2 + 64)
  try {
    const ours: Measured[] = []
    const orig: Measured[] = []
    const floor: Measured[] = []
    let aRead = 0
    let bRead = 0
    let cRead = 0
    // Rounds interleave the three, so a slow spell of the machine hits them all. Each
    // run gets a new store and nothing is deleted until all have run: on an
    // ext4 without a journal (this VM's disk) the inodes of a tree deleted
    // shortly before make every new inode cost a scan (see docs/performance.md).
    for (let round = 0; round < ROUNDS; round++) {
      const root = join(work, `ours-${round}`)
      const origDir = join(work, `orig-${round}`)
      dropCaches()
      let before = deviceBytesRead(image.device)
      ours.push(measure([process.execPath, bin, 'ingest', '--no-syslog', '-q', '--root', root, '--rsyncd-conf', join(work, `ours-${round}.conf`),
        '--rsyncd-template', join(work, 'none'), '--keyring', join(work, 'keys'), image.mountpoint]))
      aRead = deviceBytesRead(image.device) - before

      dropCaches()
      before = deviceBytesRead(image.device)
      orig.push(measure(['bash', join(here, 'original-ingest.sh'), join(image.mountpoint, 'xs-xobuilds'), origDir]))
      bRead = deviceBytesRead(image.device) - before

      // the floor: only unpacking the stick's tarball, on both CPUs, no copy, no checks, no fakeroot
      const floorDir = join(work, `floor-${round}`)
      await mkdir(floorDir)
      dropCaches()
      before = deviceBytesRead(image.device)
      floor.push(measure(['tar', '-I', 'lbzip2', '-xf', join(image.mountpoint, 'xs-xobuilds', 'os900-tree.tar.bz2'), '-C', floorDir]))
      cRead = deviceBytesRead(image.device) - before
      process.stdout.write(`round ${round + 1}: xs-rsync ingest ${ours.at(-1)?.seconds.toFixed(2)} s, original ${orig.at(-1)?.seconds.toFixed(2)} s, tar -I lbzip2 -xf alone ${floor.at(-1)?.seconds.toFixed(2)} s\n`)
    }
    const sum = (ms: Measured[]): Measured => ({ seconds: median(ms.map((m) => m.seconds)), maxRssMiB: Math.max(...ms.map((m) => m.maxRssMiB)), treeRssMiB: Math.max(...ms.map((m) => m.treeRssMiB)) })
    const a = sum(ours)
    const b = sum(orig)
    const c = sum(floor)

    const rows = [
      ['xs-rsync ingest (verify sig+sha256, copy once, unpack, publish)', a, aRead, ours],
      ['original (cp, sha1sum -c, md5sum -c, fakeroot tar -xpjf)', b, bRead, orig],
      ['floor: tar -I lbzip2 -xf of the tarball on the stick (no copy, no checks, no fakeroot)', c, cRead, floor],
    ] as const
    process.stdout.write(`\nstick: ${(stickBytes / MiB).toFixed(1)} MiB tarball, tree ${(DEFAULT_SHAPE.bytes / MiB).toFixed(0)} MiB of ${CONTENT === 'os' ? 'real OS file bytes' : 'generated content'}; median of ${ROUNDS}\n`)
    for (const [what, m, read, runs] of rows) {
      process.stdout.write(`${what}: ${m.seconds.toFixed(2)} s (runs ${runs.map((r) => r.seconds.toFixed(2)).join(', ')}), peak RSS ${m.maxRssMiB.toFixed(0)} MiB (largest process; all its processes together ${m.treeRssMiB.toFixed(0)} MiB), read from stick ${(read / MiB).toFixed(1)} MiB (${ratio(read, stickBytes)}x the tarball)\n`)
    }
    process.stdout.write(`speed-up: ${ratio(b.seconds, a.seconds)}x (target 2.5x); the floor alone would be ${ratio(b.seconds, c.seconds)}x\n`)
    await writeFile(join(out, 'ingest.json'), JSON.stringify({
      date: new Date().toISOString(), content: CONTENT, stickBytes,
      ours: { ...a, read: aRead, runs: ours }, original: { ...b, read: bRead, runs: orig }, floor: { ...c, read: cRead, runs: floor },
    }, null, 2) + '\n')
  } finally {
    image.detach()
    await rm(work, { recursive: true, force: true })
  }
}

await main()
