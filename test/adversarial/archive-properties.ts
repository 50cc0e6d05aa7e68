// Random odd and hostile archives: xs-rsync serves exactly what
// `tar --numeric-owner -xpf` extracts as root, or refuses cleanly (an
// archive error code, nothing left of the unpack). The fixed seed keeps a CI
// run repeatable; XS_PROPERTY_SEED=N tries other inputs (and replays them),
// XS_PROPERTY_RUNS=N runs more.
import t from 'tap'
import fc from 'fast-check'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { XsError } from '@xs-rsync/core'
import { checkArchive, unpackBuild } from '../../packages/publisher/src/unpack.js'
import { compressBytes, paxRecords, rawTar, type RawEntry } from '../../packages/publisher/test/lib/make-archive.js'
import { gnuExtract, pullFakeSuper, readExtracted, treeDiff } from '../lib/gnu-tar-compare.js'

const seed = Number(process.env.XS_PROPERTY_SEED ?? 20261206)
if (!Number.isSafeInteger(seed)) throw new Error(`XS_PROPERTY_SEED must be an integer, not ${JSON.stringify(process.env.XS_PROPERTY_SEED)}`)
const numRuns = Number(process.env.XS_PROPERTY_RUNS ?? 12)
t.comment(`fast-check seed ${seed}, ${numRuns} runs`)

const dir = t.testdir({})
const ARCHIVE_CODES = new Set(['E_ARCHIVE_UNSAFE', 'E_ARCHIVE_CORRUPT', 'E_ARCHIVE_FORMAT'])

const component = fc.constantFrom('a', 'b', 'c', 'a', 'b', '.', '..', 'x y', 'l\xe4', 'n\nl')
const name = fc.tuple(fc.constantFrom('', '', '', './', '/'), fc.array(component, { minLength: 1, maxLength: 3 }), fc.constantFrom('', '', '/'))
  .map(([pre, parts, post]) => pre + parts.join('/') + post)
const target = fc.oneof(name, fc.constantFrom('/etc/passwd', '../x', '.', 'a'))
const mode = fc.oneof(fc.constantFrom(0o644, 0o755, 0o4755, 0o2755, 0o1777, 0o000, 0o700), fc.integer({ min: 0, max: 0o7777 }))
const entry: fc.Arbitrary<RawEntry[]> = fc.oneof(
  fc.record({ name, mode, data: fc.uint8Array({ maxLength: 700 }) }).map((e) => [e]),
  fc.record({ name, mode }).map((e) => [{ ...e, type: '5' }]),
  fc.record({ name, mode, linkname: target }).map((e) => [{ ...e, type: '2' }]),
  fc.record({ name, mode, linkname: name }).map((e) => [{ ...e, type: '1' }]),
  fc.record({ name, mode }).map((e) => [{ ...e, type: '3' }]),
  fc.record({ name, mode }).map((e) => [{ ...e, type: '6' }]),
  // a pax header before an entry: a path, an mtime (negative too), a global comment or key
  fc.record({ path: name, mtime: fc.constantFrom('-86400', '0', '1234567890.5', '4102444800', '-1') }).map((p) => [
    { name: 'PaxHeaders/x', type: 'x', data: paxRecords([['path', p.path], ['mtime', p.mtime]]) }, { name: 'short', data: Buffer.from('pax') }]),
  fc.constantFrom<RawEntry[]>([{ name: 'g', type: 'g', data: paxRecords([['comment', 'hi']]) }], [{ name: 'g', type: 'g', data: paxRecords([['mtime', '5']]) }]),
)
const archive = fc.tuple(fc.array(entry, { minLength: 1, maxLength: 8 }), fc.boolean()).map(([es, end]) => ({ entries: es.flat(), end }))

let n = 0
t.test('any archive: what GNU tar extracts, or a clean refusal', async (t) => {
  const seen = { served: 0, refused: 0 }
  await fc.assert(fc.asyncProperty(archive, async ({ entries, end }) => {
    const id = n++
    const tarFile = join(dir, `p${id}.tar`)
    const bytes = rawTar(entries, end)
    writeFileSync(tarFile, bytes)
    const tarball = join(dir, `p${id}.tar.xz`)
    writeFileSync(tarball, compressBytes(bytes, 'xz'))
    const dest = join(dir, `xs${id}`)
    const r = await unpackBuild({ tarball, dest, backend: 'fake-super', reserve: { bytes: 0, inodes: 0 } }).catch((e: unknown) => e as Error)
    const check = await checkArchive({ tarball }).then(() => 'ok', (e: XsError) => `${e.code}: ${e.message}`)
    if (r instanceof Error) {
      if (!(r instanceof XsError) || !ARCHIVE_CODES.has(r.code)) throw new Error(`not a clean refusal: ${String(r)}`)
      if (existsSync(dest)) throw new Error('the refused unpack left its folder')
      if (check !== `${r.code}: ${r.message}`) throw new Error(`ingest --check says ${check}, the unpack ${r.code}: ${r.message}`)
      seen.refused++
      return
    }
    if (check !== 'ok') throw new Error(`ingest --check refused what the unpack served: ${check}`)
    const g = gnuExtract(tarFile, join(dir, `gnu${id}`))
    if (g.status !== 0) throw new Error(`xs-rsync served what GNU tar does not extract cleanly (exit ${g.status}): ${g.stderr}`)
    const pulled = join(dir, `pulled${id}`)
    const p = await pullFakeSuper(r.root, pulled, dir)
    if (p.status !== 0) throw new Error(`rsync pull failed: ${p.stderr}`)
    const want = readExtracted(join(dir, `gnu${id}`))
    const got = readExtracted(pulled)
    // folders the archive does not list (the top one, implicit parents): both sides make them at
    // extraction time (listed ones carry rawTar's 2020 mtime)
    const nowNs = BigInt(Date.now()) * 1_000_000n
    const recent = (ns: bigint | undefined): boolean => ns !== undefined && ns > nowNs - 600_000_000_000n
    for (const [p, w] of want) {
      const o = got.get(p)
      if (w.type === 'dir' && o?.type === 'dir' && recent(w.mtimeNs) && recent(o.mtimeNs)) o.mtimeNs = w.mtimeNs
    }
    const diff = treeDiff(want, got)
    if (diff.length > 0) throw new Error(`served differently from GNU tar:\n${diff.join('\n')}`)
    seen.served++
  }), { numRuns, seed, endOnFailure: true })
  t.comment(`served ${seen.served}, refused ${seen.refused}`)
  t.ok(seen.served > 0 && seen.refused > 0, 'the generator makes archives of both kinds')
})
