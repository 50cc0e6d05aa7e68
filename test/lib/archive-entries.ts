import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import tar from 'tar-stream'
import type { Tree, TreeEntry } from './tree-entry.js'

/** Decompress with the native tool picked from the magic bytes (independent of the publisher's decoder). */
const decompress = (tarball: string): Buffer => {
  const head = readFileSync(tarball).subarray(0, 6)
  const [cmd, args] = head.subarray(0, 3).toString('latin1') === 'BZh' ? ['bzip2', ['-dc']]
    : head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) ? ['xz', ['-dc']]
      : ['xz', ['-dc', '--format=lzma']]
  return execFileSync(cmd, [...args, tarball], { maxBuffer: 1 << 30 })
}

const norm = (name: string): string => name.replace(/^\.\//, '').replace(/\/+$/, '').replace(/^\.$/, '')

/** "\\ooo", "\\n", "\\\\"... of GNU tar's --quoting-style=escape back to bytes (latin1 string). */
const unescapeTar = (s: string): string =>
  s.replace(/\\([0-7]{3}|.)/g, (_, e: string) => e.length === 3 ? String.fromCharCode(parseInt(e, 8))
    : ({ n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', b: '\b', a: '\x07', '\\': '\\' } as Record<string, string>)[e] ?? e)

/**
 * Member names in archive order, as GNU tar reads them: tar-stream decodes
 * pax path records as UTF-8, which loses non-UTF-8 bytes.
 */
const gnuTarNames = (data: Buffer): string[] =>
  execFileSync('tar', ['--quoting-style=escape', '-tf', '-'], { input: data, maxBuffer: 1 << 28, env: { ...process.env, LC_ALL: 'C' } })
    .toString('latin1').split('\n').filter((l) => l !== '').map(unescapeTar)

/** Every entry of the archive, by normalized byte-string name (later entries replace earlier, as tar does). */
const readAll = async (tarball: string): Promise<Tree> => {
  const data = decompress(tarball)
  const names = gnuTarNames(data)
  const all: Tree = new Map()
  const ex = tar.extract({ filenameEncoding: 'latin1' } as Parameters<typeof tar.extract>[0])
  const done = new Promise<void>((resolve, reject) => { ex.on('finish', resolve); ex.on('error', reject) })
  let n = 0
  ex.on('entry', (h, stream, next) => {
    const hash = createHash('sha1')
    stream.on('data', (d) => hash.update(d as Buffer))
    stream.on('end', () => {
      const name = norm(names[n] ?? '')
      n++
      if (h.type === 'link') {
        const target = all.get(norm(h.linkname ?? ''))
        if (target === undefined) { next(new Error(`archive: hardlink ${h.name} to a missing entry`)); return }
        all.set(name, target)
      } else {
        all.set(name, {
          type: h.type as TreeEntry['type'], perm: (h.mode ?? 0) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0,
          major: h.devmajor ?? 0, minor: h.devminor ?? 0, target: h.type === 'symlink' ? h.linkname ?? '' : '',
          sha1: h.type === 'file' ? hash.digest('hex') : '', mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000), link: n,
        })
      }
      next()
    })
    stream.resume()
  })
  ex.end(data)
  await done
  if (n !== names.length) throw new Error(`archive: tar-stream saw ${n} entries, GNU tar ${names.length}`)
  return all
}

const PRISTINE = 'versions/pristine/'

/**
 * What laptops should get from this tarball, read independently of the
 * publisher: when versions/pristine/ holds directories, the first (byte
 * order) of them is the served root; otherwise the whole tree without
 * versions/. A root the archive does not describe is 0755 root:root.
 */
export const archiveEntries = async (tarball: string): Promise<Tree> => {
  const all = await readAll(tarball)
  const pristine = [...all].filter(([p, e]) => e.type === 'directory' && p.startsWith(PRISTINE) && p.length > PRISTINE.length &&
    !p.slice(PRISTINE.length).includes('/')).map(([p]) => p).sort()[0]
  const served: Tree = new Map()
  for (const [p, e] of all) {
    if (pristine !== undefined) {
      if (p === pristine) served.set('', e)
      else if (p.startsWith(pristine + '/')) served.set(p.slice(pristine.length + 1), e)
    } else if (p !== 'versions' && !p.startsWith('versions/')) {
      served.set(p, e)
    }
  }
  if (!served.has('')) {
    served.set('', { type: 'directory', perm: 0o755, uid: 0, gid: 0, major: 0, minor: 0, target: '', sha1: '', mtime: undefined, link: -1 })
  }
  return served
}
