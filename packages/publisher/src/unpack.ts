import { createHash } from 'node:crypto'
import { createReadStream, lutimesSync, statSync, statfsSync, utimesSync } from 'node:fs'
import { mkdir, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import tar from 'tar-stream'
import { DEFAULT_CONFIG, ProgressMeter, XsError, silentLog, toXsError, type Backend, type LogFn, type OnProgress } from '@xs-rsync/core'
import { FORMAT_HEAD_BYTES, detectArchiveFormat } from './archive-format.js'
import { chooseDecoder, findOnPath, openDecoder, xzDecodesThreaded, type DecoderChoice } from './decompress.js'
import { fsPath } from './entry-path.js'
import { applyExactTimes, exactTimeRecord } from './exact-times.js'
import { fileTime } from './file-time.js'
import { HeapWatch } from './heap-watch.js'
import { S_IFDIR, S_IFMT, S_IFREG } from './inode-meta.js'
import { joinOwnership, sortSpillBound } from './join-ownership.js'
import { applyFattrDump, renderFattrDump } from './ownership-fake-super.js'
import { renderFakerootState } from './ownership-fakeroot.js'
import { choosePristine, commitServedTree } from './select-pristine.js'
import { SpoolFile } from './spool-file.js'
import { spoolServedNames } from './spool-served-names.js'
import { DEFAULT_RESERVE_INODES, SpaceWatch, type SpaceReserve } from './space-watch.js'
import { TarHeaderGuard } from './tar-header-guard.js'
import { cleanStaleStaging, makeStagingDir } from './staging.js'
import { namesOnlyTreeFs } from './tree-fs.js'
import { removeTree } from './remove-tree.js'
import { TreeWriter, type EntryHeader, type FileSink } from './tree-writer.js'
import { READ_CHUNK } from './read-chunk.js'

export interface UnpackLimits {
  maxEntries: number
  /** Decompression-bomb bound: total bytes of entry content. */
  maxUnpackedBytes: number
  maxPathBytes: number
  maxDepth: number
  /** Largest pax header payload (GNU long names are held to maxPathBytes). */
  maxHeaderBytes: number
  /** Most records in one pax header. */
  maxPaxRecords: number
}

export const DEFAULT_UNPACK_LIMITS: Readonly<UnpackLimits> = {
  maxEntries: 2_000_000,
  maxUnpackedBytes: 64 * 1024 ** 3,
  maxPathBytes: 4096,
  maxDepth: 256,
  maxHeaderBytes: 1024 * 1024,
  maxPaxRecords: 1000,
}

export interface UnpackOptions {
  /** .tar.bz2 | .tar.xz | .tar.lzma; the format comes from the magic bytes, the name is a hint. */
  tarball: string
  /** A new directory (must not exist) on the store's filesystem. */
  dest: string
  backend: Backend
  /** Hex md5 of the tarball bytes; mismatch is E_CHECKSUM. */
  expectedMd5?: string
  build?: string
  /** Step 'unpack', bytes = compressed bytes read. */
  onProgress?: OnProgress
  log?: LogFn
  signal?: AbortSignal
  /**
   * The tarball's bytes, when they come as a stream rather than from
   * `tarball` (which then only names them in messages): the ingest unpacks a
   * copy while it is being written. `size` is its full length (progress).
   */
  source?: { stream: Readable, size: number }
  /** bz2 only: force seek-bzip ('js') or a native tool; default auto. */
  decoder?: DecoderChoice
  limits?: Partial<UnpackLimits>
  /**
   * Kept free on `dest`'s file system while unpacking (E_NO_SPACE otherwise).
   * Default: DEFAULT_CONFIG's reserveBytes and DEFAULT_RESERVE_INODES.
   */
  reserve?: Partial<SpaceReserve>
}

/** What `checkArchive` needs: everything of an unpack but where it goes. */
export type CheckArchiveOptions = Omit<UnpackOptions, 'dest' | 'backend'> & {
  /**
   * Where the check makes its throwaway tree of empty files (one inode per
   * name, removed afterwards): the store's tmp when there is a store;
   * default the OS temp folder (TMPDIR). `reserve` is kept free there.
   */
  scratchDir?: string
}

export interface CheckArchiveResult {
  /** Names the unpack would make (the tree root and implicit folders included). */
  entries: number
  md5: string
  warnings: string[]
}

export interface UnpackResult {
  /** dest/root: the tree to serve. */
  root: string
  /** dest/ownership.fattr (fake-super) or dest/ownership.fakeroot. */
  ownership: string
  entries: number
  bytes: number
  md5: string
  /** versions/pristine/<N> served, when the archive had one. */
  pristine?: string
  warnings: string[]
}

/**
 * Unpack a build tarball into `dest` without privileges, keeping what the
 * archive says about owners, modes, devices and times for rsync clients
 * (fake-super xattrs or a fakeroot state file). Streams: tarball (1 MiB reads,
 * md5) -> decoder -> header guard -> tar-stream -> tree writer. Resolves only
 * when everything is written and checked; on any failure `dest` is removed
 * and the promise rejects with an XsError.
 */
export const unpackBuild = async (opts: UnpackOptions): Promise<UnpackResult> => {
  const dest = resolve(opts.dest)
  if (opts.backend === 'fakeroot' && /\s/.test(dest)) {
    throw new XsError('E_CONFIG', `${dest}: the fakeroot backend needs store paths without spaces`, { path: dest })
  }
  try {
    await mkdir(dest, { mode: 0o700 })
  } catch (er) {
    if ((er as NodeJS.ErrnoException).code === 'EEXIST') throw new XsError('E_IO', `${dest} already exists; unpack needs a new directory`, { path: dest })
    throw toXsError(er)
  }
  try {
    return await unpackInto(dest, opts)
  } catch (er) {
    // a child `rm -rf`: Node's recursive rm holds every name of the tree at once (hundreds of MiB for 250k entries)
    await removeTree(dest)
    if (opts.signal?.aborted === true) {
      const reason: unknown = opts.signal.reason
      throw reason instanceof XsError ? reason : new XsError('E_INTERNAL', `unpacking ${opts.tarball} was aborted`, { path: opts.tarball, cause: reason })
    }
    throw await preferChecksumError(opts, toXsError(er))
  }
}

interface EntriesRead {
  writer: TreeWriter
  /** When the unpack started (whole seconds): every atime, as GNU tar sets it. */
  started: number
  md5: string
  warnings: string[]
  warn: (w: string) => void
  meter: ProgressMeter
}

/**
 * Where `readEntries` writes: the staging tree and its meta spool, watched
 * for space; or (a check) a throwaway tree of names only, with no content,
 * times or meta records.
 */
type EntriesTarget = { kind: 'disk', tree: string, backend: Backend, spool: SpoolFile, space: SpaceWatch } | { kind: 'check', tree: string, space: SpaceWatch }

/**
 * The whole read side of an unpack, for `unpackBuild` and `checkArchive`
 * alike: tarball (256 KiB reads, md5) -> decoder -> header guard -> tar-stream
 * -> tree writer, with every check and limit.
 */
const readEntries = async (opts: CheckArchiveOptions, target: EntriesTarget): Promise<EntriesRead> => {
  const { tarball } = opts
  const limits = { ...DEFAULT_UNPACK_LIMITS, ...opts.limits }
  const log = opts.log ?? silentLog
  const warnings: string[] = []
  const warn = (w: string): void => {
    warnings.push(w)
    log('warning', w)
  }
  opts.signal?.throwIfAborted()

  const { size, head, input } = opts.source === undefined
    ? { ...await readHead(tarball), input: createReadStream(tarball, { highWaterMark: READ_CHUNK }) }
    : { size: opts.source.size, ...await peekHead(opts.source.stream, FORMAT_HEAD_BYTES) }
  const { format, warning } = detectArchiveFormat(head, tarball)
  if (warning !== undefined) warn(warning)
  const spec = chooseDecoder(format, opts.decoder ?? 'auto', (t) => findOnPath(t), xzDecodesThreaded)
  const decoding = `${tarball} (${format}, ${spec.kind === 'js' ? 'seek-bzip' : spec.command})`
  log('debug', target.kind === 'check' ? `checking ${decoding}` : `unpacking ${decoding} into ${target.tree} for ${target.backend}`)

  const guard = new TarHeaderGuard(tarball, limits)
  const now = Math.floor(Date.now() / 1000)
  const { space } = target
  const writer = target.kind === 'disk'
    ? new TreeWriter({ root: target.tree, backend: target.backend, limits, now, paxRaw: guard.paxRaw, spool: target.spool })
    : new TreeWriter({ root: target.tree, backend: 'fake-super', limits, now, paxRaw: guard.paxRaw, spool: { append: () => {} }, fs: namesOnlyTreeFs })
  const heap = new HeapWatch(opts.build === undefined ? tarball : `build ${opts.build} (${tarball})`)
  const md5 = createHash('md5')
  const meter = new ProgressMeter({ step: 'unpack', bytesTotal: size, onProgress: opts.onProgress, ...(opts.build === undefined ? {} : { build: opts.build }) })
  const tap = new Transform({
    transform (chunk: Buffer, _enc, cb) {
      md5.update(chunk)
      meter.add(chunk.length)
      cb(null, chunk)
    },
  })
  const extract = tar.extract({ filenameEncoding: 'latin1' } as Parameters<typeof tar.extract>[0])
  const stop = new AbortController()
  const onAbort = (): void => stop.abort(opts.signal?.reason)
  opts.signal?.addEventListener('abort', onAbort)
  let entries = 0
  const errors: unknown[] = []
  /** The regular file being written, between its header and its end. */
  let sink: FileSink | undefined
  const fail = (er: unknown): void => {
    sink?.close()
    sink = undefined
    errors.push(er)
    stop.abort(er)
  }
  // Events, not async iteration: a file's chunks go straight to the writer
  // (synchronous writes), with no promise per entry or chunk.
  extract.on('entry', (h, stream, next) => {
    stream.on('error', () => { /* the pipeline reports it */ })
    let file: FileSink | undefined
    try {
      heap.entry(entries)
      // the store's reserve, before anything of this entry is made
      space.charge(h.type === 'file' && target.kind === 'disk' ? h.size : 0, inodesOf(h.name))
      file = writer.begin(h as unknown as EntryHeader)
    } catch (er) {
      fail(er)
      return
    }
    entries++
    if (file === undefined) {
      stream.on('end', () => next())
      stream.resume()
      return
    }
    sink = file
    stream.on('data', (chunk) => {
      if (sink !== file) return
      try {
        file.write(chunk as Buffer)
      } catch (er) {
        fail(er)
      }
    })
    stream.on('end', () => {
      if (sink !== file) return
      sink = undefined
      try {
        file.end()
      } catch (er) {
        fail(er)
        return
      }
      next()
    })
  })
  const decoder = openDecoder(spec, tarball)
  try {
    await pipeline(
      input, tap, decoder,
      guard, extract, { signal: stop.signal },
    ).catch((er: unknown) => { errors.push(er) })
  } finally {
    // however the pipeline ended, no decoder process or thread outlives the unpack
    decoder.destroy()
    opts.signal?.removeEventListener('abort', onAbort)
    if (target.kind === 'disk') target.spool.close()
    if (sink !== undefined) {
      sink.close()
      sink = undefined
      if (errors.length === 0) errors.push(new XsError('E_ARCHIVE_CORRUPT', `${tarball} ended inside an entry`, { path: tarball }))
    }
  }
  if (errors.length > 0) throw archiveError(tarball, errors.find((e) => e instanceof XsError) ?? errors[0])
  if (entries === 0) throw new XsError('E_ARCHIVE_CORRUPT', `${tarball} holds no entries`, { path: tarball })

  const digest = md5.digest('hex')
  if (opts.expectedMd5 !== undefined && opts.expectedMd5.toLowerCase() !== digest) throw md5Mismatch(tarball, digest, opts.expectedMd5)
  opts.signal?.throwIfAborted()
  return { writer, started: now, md5: digest, warnings, warn, meter }
}

/** Inodes an entry named `name` can create: itself and each parent folder (an upper bound). */
const inodesOf = (name: string): number => {
  let n = 1
  for (let i = name.indexOf('/'); i >= 0 && i < name.length - 1; i = name.indexOf('/', i + 1)) n++
  return n
}

/** Prefix of checkArchive's throwaway folders (PREFIX.PID.XXXXXX, see staging.ts). */
export const CHECK_SCRATCH_PREFIX = 'xs-rsync-check'

/**
 * Run a tarball through the whole unpack path (decoder, header guard, every
 * entry check and limit, md5) without unpacking it: the same tree writer
 * makes every name on disk as an unpack would, but as empty files (no
 * content, times or ownership), in a throwaway folder under `scratchDir`
 * that is removed however the check ends (and, left by a killed check, by
 * the next one). The kernel answers every call as it does for the real
 * tree, and memory does not grow with the entries. What passes here unpacks
 * on any store with room for it (`ingest --check`, prepare-stick's
 * read-back at the NOC). Needs one free inode per name (and a block per
 * folder) in `scratchDir`, above `reserve`.
 */
export const checkArchive = async (opts: CheckArchiveOptions): Promise<CheckArchiveResult> => {
  const scratchDir = resolve(opts.scratchDir ?? tmpdir())
  const log = opts.log ?? silentLog
  await cleanStaleStaging(scratchDir, log, CHECK_SCRATCH_PREFIX).catch(() => {})
  const scratch = await makeStagingDir(scratchDir, CHECK_SCRATCH_PREFIX).catch((er: unknown) => {
    throw new XsError('E_IO', `${scratchDir}: cannot make the check's throwaway folder there: ${(er as Error).message}`, { path: scratchDir, cause: er })
  })
  try {
    const tree = join(scratch, 'tree')
    await mkdir(tree, { mode: 0o700 })
    const reserve = { bytes: opts.reserve?.bytes ?? DEFAULT_CONFIG.reserveBytes, inodes: opts.reserve?.inodes ?? DEFAULT_RESERVE_INODES }
    const what = opts.build === undefined ? opts.tarball : `build ${opts.build}`
    const space = new SpaceWatch(scratch, reserve, what, statfsSync, `the check's throwaway tree of empty files in ${scratchDir}`)
    const { writer, md5, warnings, meter } = await readEntries(opts, { kind: 'check', tree, space })
    meter.finish()
    return { entries: writer.names, md5, warnings }
  } catch (er) {
    if (opts.signal?.aborted === true) {
      const reason: unknown = opts.signal.reason
      throw reason instanceof XsError ? reason : new XsError('E_INTERNAL', `checking ${opts.tarball} was aborted`, { path: opts.tarball, cause: reason })
    }
    throw await preferChecksumError(opts, archiveError(opts.tarball, er))
  } finally {
    await removeTree(scratch)
  }
}

const unpackInto = async (dest: string, opts: UnpackOptions): Promise<UnpackResult> => {
  const { tarball, backend } = opts
  const log = opts.log ?? silentLog
  const tree = join(dest, 'tree')
  await mkdir(tree, { mode: 0o700 })
  const reserve = { bytes: opts.reserve?.bytes ?? DEFAULT_CONFIG.reserveBytes, inodes: opts.reserve?.inodes ?? DEFAULT_RESERVE_INODES }
  const space = new SpaceWatch(dest, reserve, opts.build === undefined ? tarball : `build ${opts.build}`)
  const metaSpool = new SpoolFile(join(dest, 'meta.spool'), space)
  const { md5: digest, warn, warnings, meter, started } = await readEntries(opts, { kind: 'disk', tree, backend, spool: metaSpool, space })

  const pristine = choosePristine(tree)
  const root = join(dest, 'root')
  await commitServedTree(tree, root, pristine)
  const served = await recordOwnership(dest, root, backend, metaSpool.path, space, started)
  if (served.capabilities > 0 && backend === 'fakeroot') warn(`${tarball}: file capabilities of ${served.capabilities} files are not kept with the fakeroot backend`)
  meter.finish()
  const result: UnpackResult = { root, ownership: served.ownership, entries: served.entries, bytes: served.bytes, md5: digest, warnings }
  if (pristine !== undefined) result.pristine = Buffer.from(pristine, 'latin1').toString('utf8')
  log('info', `unpacked ${tarball}: ${result.entries} entries, ${result.bytes} bytes${pristine === undefined ? '' : ` (served ${result.pristine})`}`)
  return result
}

const readHead = async (tarball: string): Promise<{ size: number, head: Uint8Array }> => {
  const fh = await open(tarball, 'r')
  try {
    const { size } = await fh.stat()
    const head = Buffer.alloc(FORMAT_HEAD_BYTES)
    const { bytesRead } = await fh.read(head, 0, head.length, 0)
    return { size, head: head.subarray(0, bytesRead) }
  } finally {
    await fh.close()
  }
}

/** E_CHECKSUM: the tarball's md5 is not the one its .md5 file gives. */
export const md5Mismatch = (tarball: string, actual: string, expected: string): XsError =>
  new XsError('E_CHECKSUM', `${tarball}: md5 is ${actual}, expected ${expected}`, { path: tarball, expected, actual })

/** The first `n` bytes of a stream (fewer if it is shorter), and a stream of all its bytes. */
const peekHead = async (stream: Readable, n: number): Promise<{ head: Uint8Array, input: Readable }> => {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  const first: Buffer[] = []
  let got = 0
  while (got < n) {
    const r = await it.next()
    if (r.done === true) break
    first.push(r.value)
    got += r.value.length
  }
  const all = async function * (): AsyncGenerator<Buffer> {
    try {
      yield * first
      for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value
    } finally {
      await it.return?.()
    }
  }
  return { head: Buffer.concat(first).subarray(0, n), input: Readable.from(all(), { objectMode: false }) }
}

/** tar-stream's own errors are damage; entry errors get the tarball named; everything else keeps its code. */
const archiveError = (tarball: string, er: unknown): XsError => {
  if (er instanceof XsError) {
    if (er.path !== undefined || er.entry === undefined) return er
    return new XsError(er.code, `${tarball}: ${er.message}`, { path: tarball, entry: er.entry, cause: er })
  }
  const e = er as NodeJS.ErrnoException
  if (e instanceof Error && e.code === undefined && e.name === 'Error') {
    return new XsError('E_ARCHIVE_CORRUPT', `${tarball} is damaged: ${e.message}`, { path: tarball, cause: er })
  }
  return toXsError(er)
}

/** An archive that does not unpack and does not match its md5 is a bad copy: say so. */
const preferChecksumError = async (opts: CheckArchiveOptions, er: XsError): Promise<XsError> => {
  const archive = er.code === 'E_ARCHIVE_CORRUPT' || er.code === 'E_ARCHIVE_UNSAFE' || er.code === 'E_ARCHIVE_FORMAT'
  // A streamed source is a copy still being written: its file cannot be read back whole here.
  if (!archive || opts.expectedMd5 === undefined || opts.source !== undefined) return er
  try {
    const md5 = createHash('md5')
    for await (const chunk of createReadStream(opts.tarball, { highWaterMark: READ_CHUNK })) md5.update(chunk as Buffer)
    const digest = md5.digest('hex')
    if (digest === opts.expectedMd5.toLowerCase()) return er
    return new XsError('E_CHECKSUM', `${opts.tarball}: md5 is ${digest}, expected ${opts.expectedMd5}; it does not unpack either: ${er.message}`,
      { path: opts.tarball, expected: opts.expectedMd5, actual: digest, cause: er })
  } catch {
    return er
  }
}

interface ServedTree {
  ownership: string
  entries: number
  /** Bytes of regular-file content, once per inode. */
  bytes: number
  /** Names of files with a capability. */
  capabilities: number
}

/**
 * Give the served tree `root` what the archive says about each name: join
 * the meta records with the tree's names (on disk, by inode), write the
 * ownership data (fattr dump applied with setfattr, or fakeroot save file)
 * and set directory and symlink times, once nothing else is written into
 * the tree; then the times with nanoseconds (`applyExactTimes`: perl's utimensat, or GNU touch).
 * Memory does not depend on the tree's size. The spools, sort's spill files
 * and the ownership data are charged to `space` before they are written, as
 * the tree was: they must not eat into the store's reserve.
 */
const recordOwnership = async (dest: string, root: string, backend: UnpackOptions['backend'], metaFile: string, space: SpaceWatch,
  started: number): Promise<ServedTree> => {
  const namesFile = join(dest, 'names.spool')
  const names = new SpoolFile(namesFile, space)
  try {
    spoolServedNames(root, backend, names)
  } finally {
    names.close()
  }
  space.charge(sortSpillBound(statSync(metaFile).size + statSync(namesFile).size), 0)
  const ownership = join(dest, backend === 'fakeroot' ? 'ownership.fakeroot' : 'ownership.fattr')
  const out = new SpoolFile(ownership, space)
  // names whose mtime has nanoseconds (pax), which Node cannot set: touched at the end
  const timesFile = join(dest, 'times.spool')
  const times = new SpoolFile(timesFile, space)
  let exact = 0
  const served: ServedTree = { ownership, entries: 0, bytes: 0, capabilities: 0 }
  try {
    await joinOwnership([metaFile, namesFile], dest, (name, meta, firstOfInode) => {
      served.entries++
      const type = meta.mode & S_IFMT
      if (firstOfInode && type === S_IFREG) served.bytes += meta.size
      if (meta.capability !== undefined) served.capabilities++
      // atime: when the unpack started, as GNU tar sets it (the archive's atime records are ignored)
      if (type === S_IFDIR) utimesSync(fsPath(root, name.path), fileTime(started), fileTime(meta.mtime))
      else if (name.converted) lutimesSync(fsPath(root, name.path), fileTime(started), fileTime(meta.mtime))
      if (firstOfInode && meta.mtimeNsec !== undefined && meta.mtimeNsec !== 0) {
        times.append(exactTimeRecord({ sec: meta.mtime, nsec: meta.mtimeNsec }, name.path))
        exact++
      }
      if (backend === 'fake-super') out.append(renderFattrDump([{ path: name.path, meta }]))
      else if (firstOfInode) out.append(renderFakerootState([{ dev: name.dev, ino: name.ino, nlink: name.nlink, meta }]))
    })
  } finally {
    // a close can be refused (E_NO_SPACE for what is still buffered): the other is closed all the same
    try { out.close() } finally { times.close() }
  }
  await Promise.all([rm(metaFile), rm(namesFile)])
  if (backend === 'fake-super') await applyFattrDump(root, ownership)
  // last: nothing is written into the tree after this, so no folder time moves
  if (exact > 0) await applyExactTimes(root, timesFile, dest)
  await rm(timesFile)
  return served
}
