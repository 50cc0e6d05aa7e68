/**
 * Fuzz run (on demand) of the tar entry handling: real archives (an OS-like
 * tree made by GNU tar under fakeroot, GNU and POSIX formats, plus small
 * crafted ones) are mutated at the tar layer (header fields rewritten with
 * hostile values and a fixed checksum, byte flips, truncation, spliced or
 * duplicated blocks, injected pax/GNU/link entries), compressed (xz, or bzip2
 * whose compressed bytes are sometimes mutated too) and fed to unpackBuild,
 * alternating the two ownership backends.
 *
 * Every case must either succeed with its tree inside dest, or fail with an
 * XsError (a known code) and dest removed; never write outside dest (canary
 * folder and escape targets checked after every case), never hang (per-case
 * bound: the run is aborted and counted as a hang).
 *
 *   node --import tsx bench/fuzz-tar.ts [--cases 3000] [--seed 1] [--timeout-ms 20000] [--out FILE]
 *
 * Exit 1 on any violation. Figures: stdout and bench/out/fuzz-tar.json (or
 * FILE). CI runs a short seeded campaign: test/adversarial/fuzz-tar-smoke.ts.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { isErrorCode, XsError } from '@xs-rsync/core'
import { unpackBuild } from '@xs-rsync/publisher'
import { makeTreeTar, paxRecords, rawTar, type RawEntry } from '../packages/publisher/test/lib/make-archive.js'

const { values } = parseArgs({
  options: { cases: { type: 'string', default: '3000' }, seed: { type: 'string', default: '1' }, 'timeout-ms': { type: 'string', default: '20000' }, out: { type: 'string' } },
})
const CASES = Number(values.cases)
const TIMEOUT_MS = Number(values['timeout-ms'])
let state = Number(values.seed) >>> 0 || 1
/** xorshift32: the same seed gives the same cases. */
const rnd = (): number => { state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0; return state / 2 ** 32 }
const int = (n: number): number => Math.floor(rnd() * n)
const pick = <T>(a: readonly T[]): T => a[int(a.length)] as T

const work = mkdtempSync(join(tmpdir(), 'xs-fuzz-'))
const sandbox = join(work, 'sandbox')
const canary = join(sandbox, 'canary')
mkdirSync(canary, { recursive: true })
const ESCAPES = ['/tmp/xs-fuzz-escape', '/tmp/xs-fuzz-escape-dir', join(work, 'escape'), join(sandbox, 'escape')]

// ---- seed corpus -----------------------------------------------------------
const file = (name: string, data = 'x'): RawEntry => ({ name, data: Buffer.from(data) })
const corpus: Buffer[] = (() => {
  const src = join(work, 'src')
  mkdirSync(src)
  const { gnu, posix } = makeTreeTar(src, 'os')
  const pristine = makeTreeTar(src, 'pristine')
  return [shrink(readFileSync(gnu)), shrink(readFileSync(posix)), shrink(readFileSync(pristine.gnu)),
    rawTar([{ name: 'd/', type: '5' }, file('d/a', 'alpha'), { name: 'd/l', type: '2', linkname: 'a' }, { name: 'd/h', type: '1', linkname: 'd/a' }, file('e')]),
    rawTar([{ name: 'PaxHeaders/1', type: 'x', data: paxRecords([['path', 'long/' + 'p'.repeat(150)]]) }, file('short'), file('z', 'z'.repeat(5000))])]
})()

// ---- tar layer ---------------------------------------------------------------
/** The same archive with every file cut to at most 16 KiB (the big files are there for the decoders, not the entry handling). */
function shrink(tar: Buffer): Buffer {
  const parts: Buffer[] = []
  for (const off of headerOffsets(tar)) {
    const h = Buffer.from(tar.subarray(off, off + 512))
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8)
    const keep = Math.min(size, 16384)
    if (keep !== size) { field(h, 0, 124, 12, keep.toString(8).padStart(11, '0')); fixChecksum(h, 0) }
    parts.push(h, tar.subarray(off + 512, off + 512 + keep), Buffer.alloc((512 - (keep % 512)) % 512))
  }
  return Buffer.concat([...parts, Buffer.alloc(1024)])
}
function headerOffsets(tar: Buffer): number[] {
  const out: number[] = []
  for (let off = 0; off + 512 <= tar.length;) {
    const h = tar.subarray(off, off + 512)
    if (h.every((b) => b === 0)) break
    out.push(off)
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8)
    off += 512 + Math.ceil((Number.isFinite(size) ? size : 0) / 512) * 512
  }
  return out
}
function fixChecksum(tar: Buffer, off: number): void {
  tar.fill(0x20, off + 148, off + 156)
  let sum = 0
  for (let i = off; i < off + 512; i++) sum += tar[i] as number
  tar.write(sum.toString(8).padStart(6, '0') + '\0 ', off + 148, 'latin1')
}
function field(tar: Buffer, off: number, at: number, len: number, v: string | Buffer): void {
  tar.fill(0, off + at, off + at + len)
  ;(typeof v === 'string' ? Buffer.from(v, 'latin1') : v).copy(tar, off + at, 0, len)
}
const names = (tar: Buffer): string[] => headerOffsets(tar).map((o) => tar.subarray(o, o + 100).toString('latin1').replace(/\0.*$/s, ''))

const HOSTILE_NAMES = ['../escape', '../../escape', 'a/../../escape', '/tmp/xs-fuzz-escape', '//tmp/xs-fuzz-escape', '.', './', '', '..', 'x/..', 'a\\..\\..\\b',
  'ctl\x1b[2J', 'nul\0after', 'n'.repeat(100), 'd/'.repeat(50)]
const LINK_TARGETS = ['/', '/tmp/xs-fuzz-escape-dir', '..', '../..', '.', 'missing', '/etc/passwd', '../../../tmp/xs-fuzz-escape']
const TYPES = ['0', '1', '2', '3', '4', '5', '6', '7', 'L', 'K', 'x', 'g', 'S', 'V', 'M', 'N', '\0', 'Z']
const SIZES: Array<string | Buffer> = ['0', '1', '777', '77777777777', '-1', 'junk', '00000001000', Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0]),
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe])]

type Mutation = (tar: Buffer) => Buffer
const inHeader = (f: (tar: Buffer, off: number) => void): Mutation => (tar) => {
  const offs = headerOffsets(tar)
  if (offs.length === 0) return tar
  const off = pick(offs)
  f(tar, off)
  fixChecksum(tar, off)
  return tar
}
const MUTATIONS: Record<string, Mutation> = {
  name: inHeader((tar, off) => field(tar, off, 0, 100, rnd() < 0.3 ? pick(names(tar)) : pick(HOSTILE_NAMES))),
  prefix: inHeader((tar, off) => field(tar, off, 345, 155, pick(['..', '/tmp', '../..', 'x'.repeat(155)]))),
  type: inHeader((tar, off) => field(tar, off, 156, 1, pick(TYPES))),
  linkname: inHeader((tar, off) => field(tar, off, 157, 100, rnd() < 0.4 ? pick(names(tar)) : pick(LINK_TARGETS))),
  size: inHeader((tar, off) => field(tar, off, 124, 12, pick(SIZES))),
  mode: inHeader((tar, off) => field(tar, off, 100, 8, pick(['7777', '4755', '0', '177777', 'zzz', '-1']))),
  ids: inHeader((tar, off) => field(tar, off, 108 + 8 * int(2), 8, pick(['0', '7777777', '-1', 'x', '']))),
  dev: inHeader((tar, off) => field(tar, off, 329 + 8 * int(2), 8, pick(['0', '7777777', '377', 'junk']))),
  magic: inHeader((tar, off) => field(tar, off, 257, 8, pick(['ustar  \0', 'ustar\x0000', '\0'.repeat(8), 'garbage!']))),
  flip: (tar) => { for (let i = int(8) + 1; i > 0; i--) { const p = int(tar.length); tar[p] = (tar[p] as number) ^ (1 << int(8)) } return tar },
  truncate: (tar) => tar.subarray(0, int(tar.length)),
  splice: (tar) => {
    const other = pick(corpus)
    const a = int(tar.length / 512) * 512
    const b = int(other.length / 512) * 512
    return Buffer.concat([tar.subarray(0, a), other.subarray(b, b + 512 * (1 + int(8))), tar.subarray(a)])
  },
  duplicate: (tar) => { const offs = headerOffsets(tar); const o = offs.length ? pick(offs) : 0; return Buffer.concat([tar.subarray(0, o), tar.subarray(o, o + 1024), tar.subarray(o)]) },
  inject: (tar) => {
    const offs = headerOffsets(tar)
    const at = offs.length ? pick(offs) : 0
    const n = pick(names(tar).filter((x) => x !== '')) ?? 'a'
    const evil: RawEntry[] = pick<RawEntry[]>([
      [{ name: 'lnk', type: '2', linkname: pick(LINK_TARGETS) }, file(`lnk/${pick(['x', 'etc/passwd', '..'])}`)],
      [{ name: `${n}/sub`, type: '2', linkname: '/tmp' }, file(`${n}/sub/x`)],
      [{ name: 'hl', type: '1', linkname: pick([...LINK_TARGETS, n]) }],
      [{ name: 'PaxHeaders/f', type: 'x', data: paxRecords([[pick(['path', 'linkpath', 'size', 'uid', 'mtime', 'SCHILY.xattr.user.x', 'GNU.sparse.map']), pick([...HOSTILE_NAMES, '99999999999999', '-1', 'abc'])]]) }, file(pick(['p', n]))],
      [{ name: 'PaxHeaders/g', type: 'g', data: paxRecords([['path', 'g']]) }, file('after-global')],
      [{ name: '././@LongLink', type: pick(['L', 'K']), data: Buffer.from(pick(HOSTILE_NAMES) + '\0') }, { name: 'x', type: pick(['0', '2', '1']), linkname: 'y', data: Buffer.from('q') }],
      [{ name: 'PaxHeaders/junk', type: 'x', data: Buffer.from(pick(['12 path\n', '5 a=b\n', 'x'.repeat(600), '999999 path=x\n'])) }, file('j')],
    ])
    return Buffer.concat([tar.subarray(0, at), rawTar(evil, false), tar.subarray(at)])
  },
}
const MUTATION_NAMES = Object.keys(MUTATIONS)

// ---- run -------------------------------------------------------------------
interface Outcome { ok: number, codes: Record<string, number>, mutations: Record<string, number>, slowestMs: number, violations: string[] }
const out: Outcome = { ok: 0, codes: {}, mutations: {}, slowestMs: 0, violations: [] }

const leftovers = (): string[] => [
  ...readdirSync(sandbox).filter((f) => f !== 'canary').map((f) => `sandbox/${f}`),
  ...readdirSync(canary).map((f) => `canary/${f}`),
  ...ESCAPES.filter((p) => existsSync(p)),
]

const runCase = async (i: number): Promise<void> => {
  let tar: Buffer = Buffer.from(pick(corpus))
  const applied: string[] = []
  for (let k = 1 + int(3); k > 0; k--) {
    const m = pick(MUTATION_NAMES)
    applied.push(m)
    tar = MUTATIONS[m]!(tar)
  }
  const bz = rnd() < 0.25
  let packed: Buffer<ArrayBufferLike> = execFileSync(bz ? 'bzip2' : 'xz', bz ? ['-c', '-1'] : ['-c', '-0', '-T1'], { input: tar, maxBuffer: 1 << 28 })
  if (bz && rnd() < 0.3) { packed = Buffer.from(packed); applied.push('compressed-flip'); const p = 10 + int(packed.length - 10); packed[p] = (packed[p] as number) ^ 0xff }
  for (const m of applied) out.mutations[m] = (out.mutations[m] ?? 0) + 1
  const tarball = join(work, `case.${bz ? 'tar.bz2' : 'tar.xz'}`)
  writeFileSync(tarball, packed)
  const dest = join(sandbox, `dest${i}`)
  const ac = new AbortController()
  const started = performance.now()
  const timer = setTimeout(() => ac.abort(new Error('fuzz case timeout')), TIMEOUT_MS)
  const what = `case ${i} (${applied.join('+')}, ${i % 2 ? 'fakeroot' : 'fake-super'})`
  try {
    const r = await unpackBuild({ tarball, dest, backend: i % 2 ? 'fakeroot' : 'fake-super', signal: ac.signal, decoder: bz && rnd() < 0.5 ? 'js' : 'auto' })
    if (!r.root.startsWith(dest + '/') || !existsSync(r.root)) out.violations.push(`${what}: success but root ${r.root} not inside dest`)
    out.ok++
  } catch (er) {
    if (ac.signal.aborted) out.violations.push(`${what}: hang (no result within ${TIMEOUT_MS} ms)`)
    else if (!(er instanceof XsError) || !isErrorCode(er.code)) out.violations.push(`${what}: not an XsError: ${String(er)}`)
    else out.codes[er.code] = (out.codes[er.code] ?? 0) + 1
    if (existsSync(dest)) out.violations.push(`${what}: failed but left dest behind`)
  } finally {
    clearTimeout(timer)
  }
  out.slowestMs = Math.max(out.slowestMs, performance.now() - started)
  rmSync(dest, { recursive: true, force: true })
  const left = leftovers()
  if (left.length > 0) {
    out.violations.push(`${what}: wrote outside dest: ${left.join(', ')}`)
    for (const p of left) rmSync(p.startsWith('/') ? p : join(sandbox, p.replace(/^sandbox\//, '')), { recursive: true, force: true })
  }
  if (out.violations.length > 0 && out.violations.length < 5) writeFileSync(join(work, `violation-${i}.tar`), tar)
}

const t0 = performance.now()
for (let i = 0; i < CASES; i++) {
  await runCase(i)
  if ((i + 1) % 250 === 0) console.log(`${i + 1}/${CASES} cases, ${out.ok} unpacked, ${out.violations.length} violations`)
}
const seconds = (performance.now() - t0) / 1000
const figures = {
  cases: CASES, seed: Number(values.seed), seconds: Math.round(seconds), unpacked: out.ok, refused: out.codes, mutations: out.mutations,
  slowestCaseMs: Math.round(out.slowestMs), peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), violations: out.violations,
}
const outFile = values.out ?? join(fileURLToPath(new URL('./out/', import.meta.url)), 'fuzz-tar.json')
mkdirSync(dirname(outFile), { recursive: true })
writeFileSync(outFile, JSON.stringify(figures, null, 2) + '\n')
console.log(JSON.stringify(figures, null, 2))
if (out.violations.length === 0) rmSync(work, { recursive: true, force: true })
else console.log(`violating inputs kept in ${work}`)
process.exitCode = out.violations.length === 0 ? 0 : 1
