/**
 * A realistic synthetic OS tree for benchmarks, packed in code with
 * tar-stream (root-owned entries need no root) and compressed by the real
 * tools. Deterministic: the same seed gives the same bytes.
 *
 * Shape (defaults): ~1,200 directories, ~10,500 regular files whose sizes
 * follow a long tail (most under 8 KiB, a few MiB-sized "libraries"),
 * ~1,500 symlinks, ~600 hardlinks, setuid binaries, device nodes; about
 * 160 MiB of content.
 *
 * Content: by default real bytes of this machine's OS (`contentFrom`,
 * /usr/lib then /usr/share, files in sorted order), cut in consecutive
 * slices, so that the tarball compresses and decodes like a real OS tree
 * (an OLPC build is such a tree). The generated content of `content: 'made'`
 * (word salad and "machine code" with random operands) compresses 2.1:1
 * under bzip2 against 3.3:1 for real /usr, and decodes 1.7x slower; it is
 * kept to reproduce the first figures in docs/performance.md.
 */
import { spawn } from 'node:child_process'
import { closeSync, createWriteStream, lstatSync, openSync, readSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import tar from 'tar-stream'

export interface TreeShape {
  seed: number
  dirs: number
  files: number
  symlinks: number
  hardlinks: number
  /** Total regular-file content wanted, bytes. */
  bytes: number
  /** 'os' (default): slices of real files under `contentFrom`; 'made': generated. */
  content?: 'os' | 'made'
  contentFrom?: string[]
}

/**
 * Up to `bytes` of real file content from `dirs`: regular files in sorted
 * order (deterministic on one machine), each read whole. Throws when the
 * folders hold less.
 */
export const readContentPool = (dirs: string[], bytes: number): Buffer => {
  const pool = Buffer.allocUnsafe(bytes)
  let at = 0
  const walk = (dir: string): void => {
    let names: string[]
    try { names = readdirSync(dir).sort() } catch { return }
    for (const n of names) {
      if (at >= bytes) return
      const p = join(dir, n)
      const st = lstatSync(p, { throwIfNoEntry: false })
      if (st === undefined) continue
      if (st.isDirectory()) walk(p)
      else if (st.isFile() && st.size > 0) {
        let fd: number
        try { fd = openSync(p, 'r') } catch { continue }
        try {
          for (let got = 1; got > 0 && at < bytes;) { got = readSync(fd, pool, at, Math.min(1 << 20, bytes - at), null); at += got }
        } finally { closeSync(fd) }
      }
    }
  }
  for (const d of dirs) walk(d)
  if (at < bytes) throw new Error(`only ${at} bytes of content under ${dirs.join(', ')}; ${bytes} wanted`)
  return pool
}

export const DEFAULT_SHAPE: TreeShape = { seed: 42, dirs: 1200, files: 10_500, symlinks: 1500, hardlinks: 600, bytes: 160 * 1024 * 1024 }

const mulberry32 = (seed: number) => () => {
  seed |= 0; seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const WORDS = ('the of and to in is for on that with as by this be are from or at an it not which have ' +
  'config lib usr share doc bin sbin etc xorg python gtk sugar activity olpc kernel module firmware ' +
  'locale en es fr pt rw ' + 'printf malloc free return struct void int char const static').split(' ')

/** File content: text-like or binary-like, about 3:1 compressible. */
const content = (rnd: () => number, size: number): Buffer => {
  const b = Buffer.allocUnsafe(size)
  if (rnd() < 0.5) {
    let i = 0
    while (i < size) {
      const w = WORDS[Math.floor(rnd() * WORDS.length)] ?? 'x'
      i += b.write(w + (rnd() < 0.1 ? '\n' : ' '), i)
    }
  } else {
    // "machine code": runs of a few repeated opcodes with random operands
    for (let i = 0; i < size; i++) b[i] = rnd() < 0.55 ? (i * 7) & 0x1f : Math.floor(rnd() * 256)
  }
  return b
}

export interface TreeStats { entries: number, files: number, bytes: number }

/** Write the tree as an uncompressed tar stream into `sink`. */
export const packSyntheticTree = (shape: TreeShape = DEFAULT_SHAPE): { pack: tar.Pack, stats: TreeStats } => {
  const rnd = mulberry32(shape.seed)
  const made = shape.content === 'made'
  let pool: Buffer | undefined
  let cursor = 0
  const body = (size: number): Buffer => {
    if (made) return content(rnd, size)
    pool ??= readContentPool(shape.contentFrom ?? ['/usr/lib', '/usr/share'], Math.ceil(shape.bytes * 1.1))
    if (cursor + size > pool.length) cursor = 0
    const b = pool.subarray(cursor, cursor + size)
    cursor += size
    return b
  }
  const pack = tar.pack()
  const stats: TreeStats = { entries: 0, files: 0, bytes: 0 }
  const mtime = new Date('2026-01-15T12:00:00Z')
  const dirs: string[] = []
  const top = ['bin', 'sbin', 'etc', 'lib', 'usr', 'usr/lib', 'usr/share', 'usr/bin', 'var', 'dev', 'home', 'home/olpc']
  const add = (h: Partial<tar.Header> & { name: string }): void => { stats.entries++; pack.entry(h) }
  for (const d of top) { dirs.push(d); add({ name: d, type: 'directory', mode: 0o755, uid: d.startsWith('home/olpc') ? 500 : 0, gid: 0, mtime }) }
  while (dirs.length < shape.dirs) {
    const parent = dirs[Math.floor(rnd() * dirs.length)] ?? 'usr'
    const d = `${parent}/d${dirs.length}`
    dirs.push(d)
    add({ name: d, type: 'directory', mode: rnd() < 0.05 ? 0o555 : 0o755, uid: 0, gid: 0, mtime })
  }
  // sizes: long tail; scale so the total is about shape.bytes
  const raw = Array.from({ length: shape.files }, () => Math.exp(rnd() * 9) * 20)
  const scale = shape.bytes / raw.reduce((a, b) => a + b, 0)
  const files: string[] = []
  const queue = raw.map((r, i) => ({ i, size: Math.max(0, Math.round(r * scale)) }))
  const entries = function * () {
    for (const { i, size } of queue) yield { i, size }
  }
  const it = entries()
  const writeNext = (): void => {
    const n = it.next()
    if (n.done === true) return finishLinks()
    const { i, size } = n.value
    const dir = dirs[Math.floor(rnd() * dirs.length)] ?? 'usr'
    const name = `${dir}/f${i}${rnd() < 0.3 ? '.so' : '.txt'}`
    files.push(name)
    stats.files++
    stats.bytes += size
    const mode = i % 997 === 0 ? 0o4755 : rnd() < 0.3 ? 0o755 : i % 1999 === 0 ? 0o100000 /* 0000: tar-stream writes 0644 for a bare 0 */ : 0o644
    stats.entries++
    pack.entry({ name, type: 'file', mode, uid: 0, gid: 0, mtime, size }, body(size), (er) => {
      if (er !== null && er !== undefined) pack.destroy(er)
      else writeNext()
    })
  }
  const finishLinks = (): void => {
    for (let i = 0; i < shape.symlinks; i++) {
      const target = files[Math.floor(rnd() * files.length)] ?? 'bin'
      add({ name: `${dirs[Math.floor(rnd() * dirs.length)] ?? 'usr'}/l${i}`, type: 'symlink', linkname: i % 2 === 0 ? `/${target}` : `../${target}`, mode: 0o777, uid: 0, gid: 0, mtime })
    }
    for (let i = 0; i < shape.hardlinks; i++) {
      const target = files[Math.floor(rnd() * files.length)] ?? 'bin'
      add({ name: `${dirs[Math.floor(rnd() * dirs.length)] ?? 'usr'}/h${i}`, type: 'link', linkname: target, mode: 0o644, uid: 0, gid: 0, mtime })
    }
    add({ name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666, uid: 0, gid: 0, mtime })
    add({ name: 'dev/sda1', type: 'block-device', devmajor: 8, devminor: 1, mode: 0o660, uid: 0, gid: 6, mtime })
    pack.finalize()
  }
  writeNext()
  return { pack, stats }
}

/**
 * Write `out` = the synthetic tree compressed by `compressor` (e.g.
 * ['bzip2', '-c'], ['xz', '-c', '-T2']). Resolves with the tree's stats.
 */
export const writeSyntheticTarball = async (out: string, compressor: string[], shape: TreeShape = DEFAULT_SHAPE): Promise<TreeStats> => {
  const [cmd, ...args] = compressor
  if (cmd === undefined) throw new Error('no compressor')
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => { code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`)) })
  })
  const { pack, stats } = packSyntheticTree(shape)
  await Promise.all([pipeline(pack, child.stdin), pipeline(child.stdout, createWriteStream(out)), exited])
  return stats
}
