import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, waitForRsyncd } from './free-port.js'

/** One name of an extracted tree as a root client sees it (byte-string path, '' = the root). */
export interface Seen {
  type: string
  mode: string
  owner: string
  rdev: string
  /** sha1 of a file's bytes, a symlink's target, '' otherwise. */
  content: string
  /** mtime in nanoseconds, symlinks' too (GNU tar and xs-rsync restore nanoseconds; rsync serves them). */
  mtimeNs: bigint
  /** Index of the name's hardlink group (first name of the inode, in path order). */
  link: string
  /** atime in nanoseconds (not compared by treeDiff: not served, and GNU tar sets the time of extraction). */
  atimeNs: bigint
}

const TYPE: Record<number, string> = { 0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink', 0o020000: 'char', 0o060000: 'block', 0o010000: 'fifo' }

/** Every name below `dir` with what a client gets. Directory mtimes included; atime and ctime are not served. */
export const readExtracted = (dir: string): Map<string, Seen> => {
  const out = new Map<string, Seen>()
  const firstOfInode = new Map<bigint, string>()
  const walk = (rel: Buffer): void => {
    const abs = rel.length === 0 ? Buffer.from(dir) : Buffer.concat([Buffer.from(dir + '/'), rel])
    const st = lstatSync(abs, { bigint: true })
    const fmt = Number(st.mode) & 0o170000
    const type = TYPE[fmt] ?? `?${fmt.toString(8)}`
    const key = rel.toString('latin1')
    let content = ''
    if (type === 'file') content = createHash('sha1').update(readFileSync(abs)).digest('hex')
    if (type === 'symlink') content = readlinkSync(abs, { encoding: 'buffer' }).toString('latin1')
    let link = key
    if (type !== 'dir') {
      const first = firstOfInode.get(st.ino)
      if (first === undefined) firstOfInode.set(st.ino, key)
      else link = first
    }
    out.set(key, {
      type,
      mode: (Number(st.mode) & 0o7777).toString(8),
      owner: `${st.uid}:${st.gid}`,
      rdev: type === 'char' || type === 'block' ? String(st.rdev) : '0',
      content,
      mtimeNs: st.mtimeNs,
      link,
      atimeNs: st.atimeNs,
    })
    if (type === 'dir') {
      for (const name of readdirSync(abs, { encoding: 'buffer' }).sort(Buffer.compare)) {
        walk(rel.length === 0 ? name : Buffer.concat([rel, Buffer.from('/'), name]))
      }
    }
  }
  walk(Buffer.alloc(0))
  return out
}

/** Differences between two extracted trees, one line each (mtimes to the nanosecond). */
export const treeDiff = (want: Map<string, Seen>, got: Map<string, Seen>): string[] => {
  const out: string[] = []
  for (const [p, w] of want) {
    const g = got.get(p)
    const show = JSON.stringify(Buffer.from(p, 'latin1').toString())
    if (g === undefined) { out.push(`${show}: missing`); continue }
    for (const k of ['type', 'mode', 'owner', 'rdev', 'content', 'link'] as const) {
      if (w[k] !== g[k]) out.push(`${show}: ${k} ${g[k]}, GNU tar ${w[k]}`)
    }
    if (w.mtimeNs !== g.mtimeNs) out.push(`${show}: mtime ${g.mtimeNs} ns, GNU tar ${w.mtimeNs} ns`)
  }
  for (const p of got.keys()) if (!want.has(p)) out.push(`${JSON.stringify(Buffer.from(p, 'latin1').toString())}: extra`)
  return out
}

/** GNU tar's extraction as root: `tar --numeric-owner -xpf TAR -C DIR` (DIR made here). Returns tar's status and stderr. */
export const gnuExtract = (tarFile: string, dir: string): { status: number | null, stderr: string } => {
  mkdirSync(dir, { recursive: true })
  const r = spawnSync('tar', ['--numeric-owner', '-xpf', tarFile, '-C', dir], { encoding: 'utf8' })
  return { status: r.status, stderr: r.stderr }
}

/**
 * Serve `root` (an unpacked tree with fake-super xattrs) from a real rsync
 * daemon and pull it as root with `rsync -aH --numeric-ids` into `dest`, as
 * a laptop does. Resolves with rsync's status and stderr.
 */
export const pullFakeSuper = async (root: string, dest: string, work: string): Promise<{ status: number | null, stderr: string }> =>
  pullServed(root, dest, work, undefined)

/**
 * Serve `root` (an unpacked tree with its fakeroot save file `state`) from a
 * real rsync daemon under `fakeroot -i STATE`, as xs-rsync's fakeroot backend
 * does, and pull it as root with `rsync -aH --numeric-ids` into `dest`.
 */
export const pullFakeroot = async (root: string, state: string, dest: string, work: string): Promise<{ status: number | null, stderr: string }> =>
  pullServed(root, dest, work, state)

const pullServed = async (root: string, dest: string, work: string, fakerootState: string | undefined): Promise<{ status: number | null, stderr: string }> => {
  const port = await freePort()
  const conf = join(work, `rsyncd-${port}.conf`)
  writeFileSync(conf, [
    `port = ${port}`, 'address = 127.0.0.1', `pid file = ${work}/rsyncd-${port}.pid`, 'use chroot = no',
    '[t]', `path = ${root}`, 'read only = yes', ...(fakerootState === undefined ? ['fake super = yes'] : []), 'uid = 0', 'gid = 0', 'numeric ids = yes', '',
  ].join('\n'))
  const rsyncd = ['rsync', '--daemon', '--no-detach', '--config', conf]
  const [cmd, ...args] = fakerootState === undefined ? rsyncd : ['fakeroot', '-i', fakerootState, '--', ...rsyncd]
  // its own process group: fakeroot's rsync and faked go with it (as serve.ts stops them)
  const daemon = spawn(cmd!, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
  const exited = new Promise((resolve) => daemon.once('exit', resolve))
  try {
    await waitForRsyncd(port, 20_000)
    const r = spawnSync('rsync', ['-aH', '--numeric-ids', '--timeout=60', `rsync://127.0.0.1:${port}/t/`, `${dest}/`], { encoding: 'utf8', timeout: 120_000 })
    return { status: r.status, stderr: r.stderr }
  } finally {
    try { process.kill(-daemon.pid!, fakerootState === undefined ? 'SIGTERM' : 'SIGINT') } catch { /* already gone */ }
    await exited
  }
}
