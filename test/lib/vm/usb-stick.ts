// Disk images of USB sticks for the system test, made without root or loop
// devices: a filesystem image (mkfs.vfat + mtools, or mkfs.ext4 -d) holding a
// stick folder, either alone ("superfloppy": no partition table) or as the
// one partition, from 1 MiB, of an MBR disk like a store-bought stick.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, openSync, rmSync, writeSync } from 'node:fs'
import { ext4ImageOf, fatImageOf } from '../stick-image.js'

export type StickFs = 'vfat' | 'ext4'
export type StickLayout = 'mbr' | 'superfloppy'

const SECTOR = 512
const START = 2048 // sectors: 1 MiB

/** The 512-byte MBR of a disk with one partition of `type` from sector 2048 for `sectors` sectors. Pure but for the random disk id. */
export const mbrSector = (type: number, sectors: number, diskId = randomBytes(4)): Buffer => {
  const b = Buffer.alloc(SECTOR)
  diskId.copy(b, 440)
  const e = 446
  b[e] = 0x00 // not bootable
  b.set([0xfe, 0xff, 0xff], e + 1) // CHS: use LBA
  b[e + 4] = type
  b.set([0xfe, 0xff, 0xff], e + 5)
  b.writeUInt32LE(START, e + 8)
  b.writeUInt32LE(sectors, e + 12)
  b[510] = 0x55
  b[511] = 0xaa
  return b
}

/** A stick image at `out` holding a copy of folder `src`. */
export const makeStickImage = (out: string, src: string, fs: StickFs, layout: StickLayout, mib = 24, label = 'XSSTICK'): string => {
  const fsMib = layout === 'mbr' ? mib - 1 : mib
  const part = layout === 'mbr' ? `${out}.part` : out
  if (fs === 'vfat') fatImageOf(part, src, { mib: fsMib, label })
  else ext4ImageOf(part, src, { mib: fsMib, label })
  if (layout === 'superfloppy') return out
  rmSync(out, { force: true })
  const fd = openSync(out, 'w')
  try { writeSync(fd, mbrSector(fs === 'vfat' ? 0x0c : 0x83, fsMib * 2048)) } finally { closeSync(fd) }
  execFileSync('dd', [`if=${part}`, `of=${out}`, 'bs=1M', 'seek=1', 'conv=notrunc,sparse', 'status=none'], { timeout: 60_000 })
  rmSync(part, { force: true })
  return out
}
