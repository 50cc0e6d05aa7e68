import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, readlinkSync, lstatSync, writeFileSync } from 'node:fs'
import type { Tree, TreeEntry } from './tree-entry.js'

const TYPES: Record<number, TreeEntry['type']> = {
  0o100000: 'file', 0o040000: 'directory', 0o120000: 'symlink', 0o020000: 'character-device', 0o060000: 'block-device', 0o010000: 'fifo',
}

/** Every name under `dir` as byte paths relative to it ('' = dir itself). */
const walk = (dir: Buffer, rel: Buffer = Buffer.alloc(0), out: Buffer[] = []): Buffer[] => {
  out.push(rel)
  const p = rel.length === 0 ? dir : Buffer.concat([dir, Buffer.from('/'), rel])
  if (lstatSync(p).isDirectory()) {
    for (const n of readdirSync(p, { encoding: 'buffer' })) walk(dir, rel.length === 0 ? n : Buffer.concat([rel, Buffer.from('/'), n]), out)
  }
  return out
}

/**
 * What a client has in `dir`, as seen under `fakeroot -i STATE` (the state
 * its `fakeroot -s` pull saved): type, owner, mode, device numbers, symlink
 * target, hardlink grouping, mtime, content sha1. Keys are latin1 byte strings.
 * `state` '' reads the real ownership instead (a tree root pulled without fakeroot).
 *
 * The faked view is read with coreutils `stat` (glibc, which fakeroot wraps):
 * Node's own lstat is NOT faked (libuv calls statx(2) directly), so a Node
 * walker under fakeroot sees devices as the empty regular files on disk.
 */
export const dumpTree = (dir: string, state: string): Tree => {
  const root = Buffer.from(dir)
  const rels = walk(root)
  const abs = rels.map((r) => (r.length === 0 ? root : Buffer.concat([root, Buffer.from('/'), r])))
  const list = `${dir}.paths`
  writeFileSync(list, Buffer.concat(abs.flatMap((a) => [a, Buffer.from([0])])))
  const script = ['sh', '-c', 'xargs -0 stat --printf "%f %u %g %t %T %i %Y\\0" -- < "$1"', 'sh', list]
  // state '' = the real ownership (a tree pulled by root without fakeroot)
  const [cmd, ...args] = state === '' ? script : ['fakeroot', '-i', state, '--', ...script]
  const out = execFileSync(cmd!, args, { maxBuffer: 1 << 28, timeout: 120_000 }).toString('latin1').split('\0')
  const tree: Tree = new Map()
  rels.forEach((rel, i) => {
    const [modeHex, uid, gid, maj, min, ino, mtime] = (out[i] ?? '').split(' ')
    const mode = parseInt(modeHex ?? '', 16)
    const type = TYPES[mode & 0o170000]
    if (type === undefined) throw new Error(`dumpTree: ${rel.toString('latin1')} has odd mode ${modeHex}`)
    const p = abs[i]!
    const dev = type === 'character-device' || type === 'block-device'
    tree.set(rel.toString('latin1'), {
      type, perm: mode & 0o7777, uid: Number(uid), gid: Number(gid),
      major: dev ? parseInt(maj ?? '', 16) : 0, minor: dev ? parseInt(min ?? '', 16) : 0,
      target: type === 'symlink' ? readlinkSync(p, { encoding: 'buffer' }).toString('latin1') : '',
      sha1: type === 'file' ? createHash('sha1').update(readFileSync(p)).digest('hex') : '',
      mtime: Number(mtime), link: Number(ino),
    })
  })
  return tree
}
