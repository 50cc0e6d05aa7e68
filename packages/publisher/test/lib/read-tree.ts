import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import tar from 'tar-stream'

/** What the archive says about one name (independent reading of the raw .tar with tar-stream). */
export interface ModelEntry {
  type: 'file' | 'directory' | 'symlink' | 'character-device' | 'block-device' | 'fifo'
  /** Permission bits incl. setuid/setgid/sticky. */
  perm: number
  uid: number
  gid: number
  devmajor: number
  devminor: number
  mtime: number
  linkname: string
  sha1: string
  /** Names in one hardlink group share this. */
  inode: number
}

const norm = (name: string): string => name.replace(/^\.\//, '').replace(/\/+$/, '').replace(/^\.$/, '')

const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex')

/** Byte-string name (latin1) -> model of every entry; hardlinks resolved to their target's inode. */
export const readModel = async (tarFile: string): Promise<Map<string, ModelEntry>> => {
  const model = new Map<string, ModelEntry>()
  const ex = tar.extract({ filenameEncoding: 'latin1' } as Parameters<typeof tar.extract>[0])
  const done = new Promise<void>((resolve, reject) => { ex.on('finish', resolve); ex.on('error', reject) })
  let n = 0
  ex.on('entry', (h, stream, next) => {
    const parts: Buffer[] = []
    stream.on('data', (d) => parts.push(d as Buffer))
    stream.on('end', () => {
      const name = norm(h.name)
      if (h.type === 'link') {
        const target = model.get(norm(h.linkname ?? ''))
        if (target === undefined) throw new Error(`model: bad link ${h.name}`)
        model.set(name, target)
      } else {
        model.set(name, {
          type: h.type as ModelEntry['type'], perm: h.mode & 0o7777, uid: h.uid, gid: h.gid,
          devmajor: h.devmajor, devminor: h.devminor, mtime: h.mtime.getTime() / 1000,
          linkname: h.linkname ?? '', sha1: sha1(Buffer.concat(parts)), inode: n++,
        })
      }
      next()
    })
  })
  ex.end(readFileSync(tarFile))
  await done
  return model
}

/** What a served name looks like on disk (and, for fakeroot, as fakeroot reports it). */
export interface DiskEntry {
  /** st_mode as seen (fakeroot: faked) */
  mode: number
  uid: number
  gid: number
  /** major, minor */
  dev: [number, number]
  ino: number
  nlink: number
  mtime: number
  /** readlink for real symlinks, else the content sha1 of regular files, '' for others. */
  content: string
  /** fake-super only: the user.rsync.%stat value. */
  stat?: string
}

const unescapeOctal = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))

/** getfattr -R -d output: byte-string path -> user.rsync.%stat value. */
export const readFattr = (root: string): Map<string, string> => {
  const out = execFileSync('getfattr', ['-R', '-P', '-d', '-m', '^user\\.rsync\\.', '-e', 'text', '.'], { cwd: root, maxBuffer: 1 << 28 }).toString('latin1')
  const map = new Map<string, string>()
  let file = ''
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) file = norm(unescapeOctal(line.slice(8)))
    const m = /^user\.rsync\.%stat="(.*)"$/.exec(line)
    if (m !== null) map.set(file, m[1] ?? '')
  }
  return map
}

const WALKER = String.raw`
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { createHash } from 'node:crypto'
const root = process.argv[2]
const walk = (rel) => {
  const p = Buffer.concat([Buffer.from(root), rel.length ? Buffer.concat([Buffer.from('/'), rel]) : Buffer.alloc(0)])
  const st = lstatSync(p)
  const t = st.mode & 0o170000
  const content = t === 0o120000 ? readlinkSync(p, { encoding: 'buffer' }).toString('latin1')
    : t === 0o100000 ? createHash('sha1').update(readFileSync(p)).digest('hex') : ''
  console.log(JSON.stringify([rel.toString('latin1'), st.mode, st.uid, st.gid, st.rdev, st.ino, st.nlink, st.mtimeMs / 1000, content]))
  if (t === 0o040000) for (const n of readdirSync(p, { encoding: 'buffer' })) walk(rel.length ? Buffer.concat([rel, Buffer.from('/'), n]) : n)
}
walk(Buffer.alloc(0))
`

const parseWalk = (text: string): Map<string, DiskEntry> => {
  const map = new Map<string, DiskEntry>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    const [path, mode, uid, gid, rdev, ino, nlink, mtime, content] = JSON.parse(line) as [string, number, number, number, number, number, number, number, string]
    map.set(path, { mode, uid, gid, dev: devNumbers(rdev), ino, nlink, mtime, content })
  }
  return map
}

/**
 * Walk the served tree on disk. With `fakerootState`, owners, modes, device
 * numbers and link counts come from `stat` run under `fakeroot -i STATE`, as
 * the rsync daemon would see them (Node's own lstat uses the statx syscall
 * directly, which fakeroot cannot intercept).
 */
export const walkServed = (dir: string, root: string, fakerootState?: string): Map<string, DiskEntry> => {
  const walker = join(dir, 'walker.mjs')
  writeFileSync(walker, WALKER)
  const map = parseWalk(execFileSync(process.execPath, [walker, root], { maxBuffer: 1 << 28 }).toString())
  if (fakerootState === undefined) return map
  const out = execFileSync('fakeroot', ['-i', fakerootState, '--', 'find', '.', '-exec', 'stat', '--printf=%f %u %g %t %T %h %n\\0', '{}', '+'],
    { cwd: root, maxBuffer: 1 << 28 }).toString('latin1')
  for (const rec of out.split('\0')) {
    if (rec === '') continue
    const f = rec.split(' ')
    const path = f.slice(6).join(' ').replace(/^\.\/?/, '')
    const d = map.get(path)
    if (d === undefined) throw new Error(`fakeroot walk: unknown ${path}`)
    d.mode = parseInt(f[0] ?? '', 16)
    d.uid = Number(f[1])
    d.gid = Number(f[2])
    d.dev = [parseInt(f[3] ?? '', 16), parseInt(f[4] ?? '', 16)]
    d.nlink = Number(f[5])
  }
  return map
}

/** glibc major/minor of an rdev. */
export const devNumbers = (rdev: number): [number, number] => {
  const r = BigInt(rdev)
  return [Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn)), Number((r & 0xffn) | ((r >> 12n) & ~0xffn))]
}

