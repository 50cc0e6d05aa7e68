import { createHash } from 'node:crypto'
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import tar from 'tar-stream'

/** One entry of a generated OS tree, as tar-stream packs it. */
export interface SampleEntry {
  name: string
  type: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo'
  mode: number
  uid: number
  gid: number
  mtime: Date
  content?: string
  linkname?: string
  devmajor?: number
  devminor?: number
}

const T0 = new Date('2026-01-15T12:00:00Z')

/**
 * A small OS tree with what a real one has: root-owned files, a user's home,
 * a setuid binary, a mode-0000 file, a char and a block device, a fifo,
 * relative and absolute symlinks, a hardlink and a path over 100 bytes.
 */
export const sampleEntries = (): SampleEntry[] => {
  const dir = (name: string, mode = 0o755, uid = 0, gid = 0): SampleEntry => ({ name, type: 'directory', mode, uid, gid, mtime: T0 })
  const file = (name: string, content: string, mode = 0o644, uid = 0, gid = 0): SampleEntry => ({ name, type: 'file', mode, uid, gid, mtime: T0, content })
  const longDir = 'usr/share/doc/olpc-sample-documentation-package-with-a-long-name'
  return [
    dir('./'),
    dir('bin'),
    file('bin/su', '#!/bin/sh\necho pretend su\n', 0o4755),
    file('bin/busybox', 'busybox binary stand-in\n'.repeat(100), 0o755),
    { name: 'bin/sh', type: 'link', linkname: 'bin/busybox', mode: 0o755, uid: 0, gid: 0, mtime: T0 },
    { name: 'bin/ash', type: 'symlink', linkname: 'busybox', mode: 0o777, uid: 0, gid: 0, mtime: T0 },
    dir('dev'),
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666, uid: 0, gid: 0, mtime: T0 },
    { name: 'dev/sda1', type: 'block-device', devmajor: 8, devminor: 1, mode: 0o660, uid: 0, gid: 6, mtime: T0 },
    { name: 'dev/initctl', type: 'fifo', mode: 0o600, uid: 0, gid: 0, mtime: T0 },
    dir('etc'),
    file('etc/hostname', 'xo-laptop\n'),
    file('etc/shadow', 'root:!:19000:0:99999:7:::\n', 0o000),
    { name: 'etc/localtime', type: 'symlink', linkname: '/usr/share/zoneinfo/UTC', mode: 0o777, uid: 0, gid: 0, mtime: T0 },
    dir('home'),
    dir('home/olpc', 0o700, 500, 500),
    file('home/olpc/.bashrc', '# olpc\n', 0o644, 500, 500),
    dir('tmp', 0o1777),
    dir('usr'), dir('usr/share'), dir('usr/share/doc'), dir(longDir),
    file(`${longDir}/a-file-whose-full-path-is-longer-than-one-hundred-bytes.txt`, 'long path\n'),
  ]
}

// tar-stream's pack treats mode 0 as "unset" and writes 0644; a file-type
// bit makes it truthy, and only the permission bits are encoded.
const S_IFREG = 0o100000

/** Pack entries into a tar stream (GNU/pax headers as needed). */
export const packEntries = (entries: SampleEntry[]): tar.Pack => {
  const pack = tar.pack()
  for (const e of entries) {
    const { content, ...rest } = e
    const header = { ...rest, mode: rest.mode === 0 ? S_IFREG : rest.mode }
    if (e.type === 'file') pack.entry({ ...header, size: Buffer.byteLength(content ?? '') }, content ?? '')
    else pack.entry(header)
  }
  pack.finalize()
  return pack
}

export interface SampleBuildFiles {
  name: string
  tarball: string
  md5File: string
  contentsFile: string
  nameFile: string
}

/** Write BASE-tree.tar.bz2 (made by the real bzip2), its .md5, BASE.contents and BASE.name into `dir`. */
export const writeSampleBuild = async (dir: string, name: string, entries = sampleEntries()): Promise<SampleBuildFiles> => {
  const base = `os${name}`
  const tarball = join(dir, `${base}-tree.tar.bz2`)
  const bzip2 = spawn('bzip2', ['-c'], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve, reject) => {
    bzip2.on('error', reject)
    bzip2.on('close', (code) => { code === 0 ? resolve() : reject(new Error(`bzip2 exited ${code}`)) })
  })
  await Promise.all([
    pipeline(packEntries(entries), bzip2.stdin),
    pipeline(bzip2.stdout, createWriteStream(tarball)),
    exited,
  ])
  const md5 = createHash('md5').update(await readFile(tarball)).digest('hex')
  const md5File = `${tarball}.md5`
  await writeFile(md5File, `${md5}  ${base}-tree.tar.bz2\n`)
  const contentsFile = join(dir, `${base}.contents`)
  await writeFile(contentsFile, JSON.stringify({ build: name, files: entries.filter((e) => e.type === 'file').map((e) => e.name) }, null, 1) + '\n')
  const nameFile = join(dir, `${base}.name`)
  await writeFile(nameFile, `${name}\n`)
  return { name, tarball, md5File, contentsFile, nameFile }
}
