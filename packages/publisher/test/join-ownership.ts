// The join of spooled metadata with the served names, seen through whole unpacks:
// replaced names, hardlinks to replaced files, folders listed again, for both backends.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { lstatSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { unpackBuild } from '../src/unpack.js'
import { compressBytes, rawTar } from './lib/make-archive.js'

const dir = t.testdir({})
const tarball = join(dir, 'odd.tar.xz')
writeFileSync(tarball, compressBytes(rawTar([
  { name: 'f', data: Buffer.from('first'), mode: 0o4755 },
  { name: 'h', type: '1', linkname: 'f' },
  { name: 'f', data: Buffer.from('second'), mode: 0o640 },
  { name: 's', type: '2', linkname: 'f' },
  { name: 's', data: Buffer.from('file now'), mode: 0o600 },
  { name: 'd/x', data: Buffer.from('x'), mode: 0o644 },
  { name: 'd', type: '5', mode: 0o711 },
]), 'xz'))

t.test('fake-super: each name gets the metadata of the inode it ends up with', async (t) => {
  const r = await unpackBuild({ tarball, dest: join(dir, 'fs'), backend: 'fake-super' })
  const stat = (p: string): string => execFileSync('getfattr', ['-h', '-n', 'user.rsync.%stat', '--only-values', p], { cwd: r.root, encoding: 'latin1' })
  t.equal(stat('h'), '104755 0,0 0:0', 'the hardlink keeps the replaced file\'s inode and metadata')
  t.equal(readFileSync(join(r.root, 'h'), 'utf8'), 'first')
  t.equal(stat('f'), '100640 0,0 0:0', 'the new f has its own')
  t.equal(stat('s'), '100600 0,0 0:0', 'a symlink replaced by a file is a file')
  t.equal(stat('d'), '40711 0,0 0:0', 'a folder listed after its contents')
  t.equal(r.entries, 6, 'root, f, h, s, d, d/x')
  t.equal(r.bytes, 5 + 6 + 8 + 1, 'content once per inode')
  t.equal(readFileSync(r.ownership, 'latin1').match(/^# file: /gm)?.length, 6, 'one dump block per served name')
})

t.test('fakeroot: one state line per inode, with its real link count', async (t) => {
  const r = await unpackBuild({ tarball, dest: join(dir, 'fr'), backend: 'fakeroot' })
  const lines = readFileSync(r.ownership, 'utf8').trim().split('\n')
  const ino = (p: string): number => lstatSync(join(r.root, p)).ino
  const line = (p: string): string | undefined => lines.find((l) => l.includes(`,ino=${ino(p)},`))
  t.equal(lines.length, 6, 'root, f, h (the replaced f), s, d, d/x: six inodes')
  t.match(line('h'), /mode=104755,uid=0,gid=0,nlink=1,/)
  t.match(line('f'), /mode=100640,.*nlink=1,/)
  t.match(line('d'), /mode=40711,/)
})
