import { lstat, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { silentLog, XsError, type LogFn } from '@xs-rsync/core'
import type { HashAlgo, ManifestEntry } from './manifest.js'
import { openStickFile } from './open-stick-file.js'

/** Refused before parsing: a manifest is a short list of files. */
export const MAX_MANIFEST_BYTES = 1024 * 1024
/** Refused before parsing: a detached signature is a few hundred bytes. */
export const MAX_SIGNATURE_BYTES = 64 * 1024

/** Manifests in order of preference (sha256 first). */
export const MANIFEST_NAMES: ReadonlyArray<{ algo: HashAlgo, name: string }> = [
  { algo: 'sha256', name: 'manifest.sha256' },
  { algo: 'sha1', name: 'manifest.sha1' },
]

export interface StickBytes {
  path: string
  bytes: Buffer
}

export interface StickManifest {
  algo: HashAlgo
  manifest: StickBytes
  signature?: StickBytes
}

/** The hash another manifest on the stick gives for a file: it must match too. */
export interface AlsoHash {
  algo: HashAlgo
  hash: string
  /** That manifest's path, for the error. */
  manifest: string
}

/** A file listed in the manifest, as found on the stick (lstat). */
export interface StickFile extends ManifestEntry {
  /** What the stick's other manifests say about it (each checked while it is copied). */
  also?: AlsoHash[]
  /** Path on the stick (its on-disk name may differ in case on FAT). */
  path: string
  size: number
  ino: number
  mtimeMs: number
}

/** The names in the stick folder, and how to find a manifest name among them. */
export interface StickDir {
  dir: string
  names: string[]
  /** The on-disk name for `name`, or undefined. */
  lookup(name: string): string | undefined
}

/**
 * List the stick folder. With `shortNamesUpperCase` (fusefat shows FAT 8.3
 * names in upper case) names are matched without case; two on-disk names
 * that match the same name are refused (E_MANIFEST).
 */
export const listStickDir = async (dir: string, shortNamesUpperCase = false): Promise<StickDir> => {
  let names: string[]
  try {
    names = (await readdir(dir)).sort()
  } catch (er) {
    throw new XsError('E_IO', `cannot list ${dir}: ${(er as Error).message}`, { path: dir, cause: er })
  }
  const exact = new Set(names)
  const upper = new Map<string, string[]>()
  for (const n of names) upper.set(n.toUpperCase(), [...(upper.get(n.toUpperCase()) ?? []), n])
  return {
    dir,
    names,
    lookup: (name) => {
      if (exact.has(name)) return name
      if (!shortNamesUpperCase) return undefined
      const hits = upper.get(name.toUpperCase()) ?? []
      if (hits.length > 1) {
        throw new XsError('E_MANIFEST', `${dir}: ${hits.join(' and ')} both match ${name}`, { path: dir, entry: name })
      }
      return hits[0]
    },
  }
}

/**
 * Read a whole small stick file, once: lstat size checked against `limit`
 * before opening (so a huge file is never read), O_NOFOLLOW, fstat, and a
 * bounded read. `code` is the refusal code (E_MANIFEST, E_SIGNATURE_BAD).
 */
export const readSmallStickFile = async (path: string, limit: number, code: 'E_MANIFEST' | 'E_SIGNATURE_BAD'): Promise<Buffer> => {
  const tooBig = (size: number): XsError =>
    new XsError(code, `${path} is ${size} bytes, more than the ${limit} allowed; refused without reading it`,
      { path, expected: limit, actual: size })
  const st = await lstat(path).catch((er: unknown) => {
    throw new XsError(code, `${path} cannot be read: ${(er as Error).message}`, { path, cause: er })
  })
  if (st.isFile() && st.size > limit) throw tooBig(st.size)
  const { fh, stat } = await openStickFile(path, code)
  try {
    if (stat.size > limit) throw tooBig(stat.size)
    const buf = Buffer.alloc(limit + 1)
    let n = 0
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, null)
      if (bytesRead === 0) break
      n += bytesRead
      if (n > limit) throw tooBig(n)
    }
    return buf.subarray(0, n)
  } finally {
    await fh.close()
  }
}

/**
 * Every manifest on the stick (sha256 first) with its signature, each read
 * within the size limits. No manifest at all is E_MANIFEST.
 */
export const readStickManifests = async (stick: StickDir): Promise<StickManifest[]> => {
  const present = MANIFEST_NAMES
    .map((m) => ({ ...m, file: stick.lookup(m.name), sig: stick.lookup(`${m.name}.sig`) }))
  const out: StickManifest[] = []
  for (const m of present) {
    if (m.file === undefined) {
      if (m.sig !== undefined) {
        throw new XsError('E_MANIFEST', `${join(stick.dir, m.sig)} is there but ${m.name} is not: the stick is incomplete`, { path: join(stick.dir, m.sig) })
      }
      continue
    }
    const path = join(stick.dir, m.file)
    const one: StickManifest = { algo: m.algo, manifest: { path, bytes: await readSmallStickFile(path, MAX_MANIFEST_BYTES, 'E_MANIFEST') } }
    if (m.sig !== undefined) {
      const sigPath = join(stick.dir, m.sig)
      one.signature = { path: sigPath, bytes: await readSmallStickFile(sigPath, MAX_SIGNATURE_BYTES, 'E_SIGNATURE_BAD') }
    }
    out.push(one)
  }
  if (out.length === 0) {
    throw new XsError('E_MANIFEST', `${stick.dir} has no manifest.sha256 or manifest.sha1: the stick cannot be verified`,
      { path: stick.dir })
  }
  return out
}

/**
 * The manifest the stick is read by: a signed one before an unsigned one (so
 * an unsigned manifest.sha256 added beside a signed manifest.sha1 changes
 * nothing), then sha256 before sha1. Pure.
 */
export const primaryManifest = (manifests: readonly StickManifest[]): StickManifest | undefined =>
  manifests.find((m) => m.signature !== undefined) ?? manifests[0]

/** The manifest to use and its signature (see primaryManifest). */
export const readStickManifest = async (stick: StickDir): Promise<StickManifest> =>
  primaryManifest(await readStickManifests(stick)) as StickManifest

/**
 * lstat every file the manifest lists: a missing file, a symlink or a
 * special file refuses the stick (E_MANIFEST_MISMATCH). Files in the folder
 * that the manifest does not list (other than the manifests and their
 * signatures) are returned as `ignored` (and logged): they are never read.
 */
export const statListedFiles = async (
  stick: StickDir,
  entries: ManifestEntry[],
  log: LogFn = silentLog,
): Promise<{ files: StickFile[], ignored: string[] }> => {
  const files: StickFile[] = []
  const used = new Set(MANIFEST_NAMES.flatMap((m) => [stick.lookup(m.name), stick.lookup(`${m.name}.sig`)])
    .filter((n): n is string => n !== undefined))
  for (const e of entries) {
    const onDisk = stick.lookup(e.name)
    const path = join(stick.dir, onDisk ?? e.name)
    if (onDisk === undefined) {
      throw new XsError('E_MANIFEST_MISMATCH', `${path} is listed in the manifest but missing`, { path, entry: e.name })
    }
    used.add(onDisk)
    const st = await lstat(path).catch((er: unknown) => {
      throw new XsError('E_MANIFEST_MISMATCH', `${path} cannot be read: ${(er as Error).message}`, { path, entry: e.name, cause: er })
    })
    if (!st.isFile()) {
      throw new XsError('E_MANIFEST_MISMATCH',
        `${path} is ${st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a folder' : 'a special file'}, not a regular file`,
        { path, entry: e.name })
    }
    files.push({ ...e, path, size: st.size, ino: st.ino, mtimeMs: st.mtimeMs })
  }
  const ignored = stick.names.filter((n) => !used.has(n))
  for (const n of ignored) log('notice', `Ignoring ${join(stick.dir, n)}: not listed in the manifest, not copied`)
  return { files, ignored }
}
