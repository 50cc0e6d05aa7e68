/**
 * A stick as a loop-mounted ext4 image, so the bytes the ingest reads from
 * the stick can be counted at the block device (/sys/block/loopN/stat,
 * sectors read) after dropping the page cache. Needs root.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { basename } from 'node:path'

export interface StickImage { device: string, mountpoint: string, detach(): void }

export const makeStickImage = (image: string, fromDir: string, mountpoint: string, sizeMiB: number): StickImage => {
  execFileSync('truncate', ['-s', `${sizeMiB}M`, image])
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', fromDir, image])
  const device = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim()
  execFileSync('mkdir', ['-p', mountpoint])
  execFileSync('mount', ['-o', 'ro', device, mountpoint])
  return {
    device,
    mountpoint,
    detach: () => {
      try { execFileSync('umount', [mountpoint]) } catch {}
      try { execFileSync('losetup', ['-d', device]) } catch {}
    },
  }
}

/** Drop clean page cache so the next reads really hit the device. */
export const dropCaches = (): void => {
  execFileSync('sync')
  writeFileSync('/proc/sys/vm/drop_caches', '3\n')
}

/** Bytes read from the block device so far. */
export const deviceBytesRead = (device: string): number => {
  const stat = readFileSync(`/sys/block/${basename(device)}/stat`, 'utf8').trim().split(/\s+/)
  return Number(stat[2]) * 512
}
