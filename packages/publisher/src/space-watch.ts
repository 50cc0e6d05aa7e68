import { statfsSync } from 'node:fs'
import { XsError } from '@xs-rsync/core'

/** What the store keeps free while a build is unpacked into it. */
export interface SpaceReserve {
  bytes: number
  inodes: number
}

/** Free inodes kept on the store besides `reserveBytes` (a few thousand files for the system and the next job). */
export const DEFAULT_RESERVE_INODES = 4096

/** The statfs fields used (Node's StatsFs). */
export interface FsFree {
  bsize: number
  bavail: number
  files: number
  ffree: number
}

/** Block size assumed per inode and for rounding file sizes: directory blocks, xattrs and rounding are covered. */
const BLOCK = 4096
/** Ask the file system again at least this often, so that other writers (the ingest's copy) are seen. */
const RECHECK_BYTES = 64 * 1024 * 1024
const RECHECK_ENTRIES = 4096

/**
 * Keeps an unpack from eating into the store's reserve of free bytes and
 * free inodes. Each entry is charged before it is written, at a bound of
 * what it can take (its size in whole blocks plus one block per inode); the
 * file system is asked again (statfs) when what was charged since the last
 * look reaches what was free above the reserve, and every 64 MiB or 4096
 * entries. So the store never goes below the reserve by this unpack, and
 * never reaches zero. A file system that does not count inodes (files = 0)
 * is watched for bytes only.
 */
export class SpaceWatch {
  readonly #path: string
  readonly #reserve: SpaceReserve
  readonly #what: string
  readonly #statfs: (path: string) => FsFree
  readonly #place: string
  #bytesLeft = 0
  #inodesLeft = 0
  #sinceBytes = 0
  #sinceEntries = 0

  /**
   * `what` names the build in messages ("build 45", or the tarball);
   * `place` the file system watched ("the store").
   */
  constructor (path: string, reserve: SpaceReserve, what: string, statfs: (path: string) => FsFree = statfsSync, place = 'the store') {
    this.#path = path
    this.#place = place
    this.#reserve = reserve
    this.#what = what
    this.#statfs = statfs
    this.#look(0, 0)
  }

  /** Charge one entry of `size` content bytes that may create `inodes` inodes; throws E_NO_SPACE when it does not fit. */
  charge (size: number, inodes: number): void {
    const bytes = Math.ceil(size / BLOCK) * BLOCK + inodes * BLOCK
    this.#sinceBytes += bytes
    this.#sinceEntries++
    if (bytes > this.#bytesLeft || inodes > this.#inodesLeft || this.#sinceBytes >= RECHECK_BYTES || this.#sinceEntries >= RECHECK_ENTRIES) {
      this.#look(bytes, inodes)
    }
    this.#bytesLeft -= bytes
    this.#inodesLeft -= inodes
  }

  #look (bytes: number, inodes: number): void {
    const st = this.#statfs(this.#path)
    const freeBytes = st.bavail * st.bsize
    this.#sinceBytes = 0
    this.#sinceEntries = 0
    this.#bytesLeft = freeBytes - this.#reserve.bytes
    this.#inodesLeft = st.files === 0 ? Infinity : st.ffree - this.#reserve.inodes
    if (bytes > this.#bytesLeft) {
      throw new XsError('E_NO_SPACE', `${this.#what}: ${this.#place} ran out of free space while unpacking: ${mb(freeBytes)} free, ` +
        `the next entry needs up to ${mb(bytes)} and ${mb(this.#reserve.bytes)} stay in reserve; everything unpacked was removed`,
      { path: this.#path, expected: String(bytes + this.#reserve.bytes), actual: String(freeBytes) })
    }
    if (inodes > this.#inodesLeft) {
      throw new XsError('E_NO_SPACE', `${this.#what}: ${this.#place} ran out of free inodes (files) while unpacking: ${st.ffree} free, ` +
        `the next entry needs up to ${inodes} and ${this.#reserve.inodes} stay in reserve; everything unpacked was removed`,
      { path: this.#path, expected: String(inodes + this.#reserve.inodes), actual: String(st.ffree) })
    }
  }
}

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`
