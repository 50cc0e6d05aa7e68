import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { closeSync, createReadStream, lstatSync, openSync, readdirSync, readlinkSync, readSync, writeSync } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'
import tar from 'tar-stream'
import { silentLog, toXsError, XsError, type Backend, type LogFn, type XsConfig } from '@xs-rsync/core'
import { FORMAT_HEAD_BYTES, detectArchiveFormat } from './archive-format.js'
import { readBuildRecord, type BuildRecord } from './build-record.js'
import { chooseDecoder, findOnPath, openDecoder, xzDecodesThreaded } from './decompress.js'
import { fsPath, normalizeEntryPath } from './entry-path.js'
import { entryTime, nsTimeText } from './file-time.js'
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, type InodeMeta } from './inode-meta.js'
import { FAKE_SUPER_XATTR, quoteFattrName } from './ownership-fake-super.js'
import { noSuchBuild } from './no-such-build.js'
import { publishLayout, type PublishLayout } from './publish-layout.js'
import { makeStagingDir } from './staging.js'
import { PAX_RAW_KEYS, TarHeaderGuard } from './tar-header-guard.js'
import { DEFAULT_UNPACK_LIMITS } from './unpack.js'
import { READ_CHUNK } from './read-chunk.js'
import {
  contentField, diffListings, EMPTY_SHA1, expectedValue, servedFromFakerootLine, servedFromFakeSuper,
  unquoteFattrName, type ListingDifference,
} from './tree-listing.js'

export interface VerifyBuildOptions {
  config: XsConfig
  name: string
  log?: LogFn
  signal?: AbortSignal
  /** Each difference, as it is found (the name quoted as getfattr does). */
  onDifference?: (d: ListingDifference) => void
}

export interface VerifyBuildResult {
  name: string
  /** Entries of the archive compared. */
  entries: number
  differences: number
}

const SPECIAL_TYPE: Record<string, number> = { 'character-device': S_IFCHR, 'block-device': S_IFBLK, fifo: S_IFIFO }

/** A line file written synchronously through a 64 KiB buffer. */
class LineFile {
  readonly #fd: number
  #buf: string[] = []
  #size = 0
  constructor (readonly path: string) { this.#fd = openSync(path, 'wx', 0o600) }
  line (s: string): void {
    this.#buf.push(s + '\n')
    this.#size += s.length + 1
    if (this.#size > 65536) this.flush()
  }

  flush (): void {
    if (this.#buf.length > 0) writeSync(this.#fd, this.#buf.join(''))
    this.#buf = []
    this.#size = 0
  }

  close (): void {
    this.flush()
    closeSync(this.#fd)
  }
}

const quoted = (rel: string): string => rel === '' ? '.' : quoteFattrName(Buffer.from(rel, 'latin1'))
const pad = (n: number | bigint): string => String(n).padStart(20, '0')

/** Sort a file in place by bytes (GNU sort: on disk, so memory stays bounded). */
const sortFile = (file: string, tmp: string): Promise<void> => new Promise((resolve, reject) => {
  const c = spawn('sort', ['-S', '32M', '-T', tmp, '-o', file, file], { env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  c.stderr.on('data', (d: Buffer) => { err += d.toString() })
  c.on('error', (er) => reject(new XsError('E_TOOL_MISSING', `cannot run sort: ${er.message}`, { cause: er })))
  c.on('close', (code) => code === 0 ? resolve() : reject(new XsError('E_IO', `sort ${file} failed: ${err.trim()}`, { path: file })))
})

const lines = (file: string): AsyncIterable<string> => createInterface({ input: createReadStream(file), crlfDelay: Infinity })

/**
 * Check a published build's tree against its archive in xobuilds-packed (or
 * where it was published by hand from): types, owners, modes, devices, link
 * targets, hardlinks, times and content of every name, and names the archive
 * does not have. Memory does not grow with the build: the archive is read as
 * a stream and the tree walked once, each into a listing on disk, and the
 * sorted listings are compared line by line.
 */
export const verifyBuild = async (opts: VerifyBuildOptions): Promise<VerifyBuildResult> => {
  const { config, name } = opts
  const log = opts.log ?? silentLog
  const layout = publishLayout(config.root)
  const rec = await readBuildRecord(layout.records, name)
  if (rec === undefined) throw await noSuchBuild(config, name)
  const tarball = rec.source ?? join(layout.packed, rec.tarball)
  const root = join(layout.trees, rec.tree, 'root')
  try {
    lstatSync(root)
  } catch (er) {
    throw new XsError('E_NOT_FOUND', `the tree of build ${name} (${root}) is gone: ${(er as Error).message}`, { path: root, cause: er })
  }
  const staging = await makeStagingDir(layout.tmp, 'verify')
  let differences = 0
  const report = (d: ListingDifference): void => { differences++; opts.onDifference?.(d) }
  try {
    log('info', `Verifying build ${name}: reading ${tarball}`)
    const expected = join(staging, 'expected')
    const entries = await expectedListing(rec, tarball, root, expected, config.backend, report, opts.signal)
    log('info', `Verifying build ${name}: reading its tree ${root}`)
    const actual = await actualListing(layout, root, staging, config.backend, opts.signal)
    await sortFile(expected, staging)
    await diffListings(lines(expected), lines(actual), report)
    log(differences === 0 ? 'info' : 'warning', `Build ${name}: ${entries} archive entries checked, ${differences === 0 ? 'no differences' : `${differences} difference(s)`}`)
    return { name, entries, differences }
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

/** The expected listing, from the archive; hardlinks are checked here (same inode as their target). */
const expectedListing = async (rec: BuildRecord, tarball: string, root: string, out: string, backend: Backend,
  report: (d: ListingDifference) => void, signal?: AbortSignal): Promise<number> => {
  const file = new LineFile(out)
  const pristine = rec.pristine === undefined ? undefined : Buffer.from(rec.pristine, 'utf8').toString('latin1')
  const served = (rel: string): string | undefined => {
    if (pristine === undefined) return rel === 'versions' || rel.startsWith('versions/') ? undefined : rel
    return rel === pristine ? '' : rel.startsWith(pristine + '/') ? rel.slice(pristine.length + 1) : undefined
  }
  let index = 0
  let lastParent: string | undefined
  const emit = (rel: string, value: string): void => {
    const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : ''
    if (parent !== lastParent && rel !== '') {
      lastParent = parent
      // the folders above it, which the archive may not list (made by the unpack)
      for (let p = parent; ; p = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '') {
        file.line(`${quoted(p)}\t${pad(0)}\timplicit`)
        if (p === '') break
      }
    }
    file.line(`${quoted(rel)}\t${pad(++index)}\t${value}`)
  }
  const fh = await open(tarball, 'r')
  let head: Buffer
  try {
    head = Buffer.alloc(FORMAT_HEAD_BYTES)
    head = head.subarray(0, (await fh.read(head, 0, head.length, 0)).bytesRead)
  } finally {
    await fh.close()
  }
  const { format } = detectArchiveFormat(head, tarball)
  const spec = chooseDecoder(format, 'auto', (t) => findOnPath(t), xzDecodesThreaded)
  const guard = new TarHeaderGuard(tarball, DEFAULT_UNPACK_LIMITS)
  const extract = tar.extract({ filenameEncoding: 'latin1' } as Parameters<typeof tar.extract>[0])
  const md5 = createHash('md5')
  const tap = new Transform({ transform (chunk: Buffer, _e, cb) { md5.update(chunk); cb(null, chunk) } })
  let entries = 0
  extract.on('entry', (h, stream, next) => {
    entries++
    const pax = (typeof h.pax === 'object' && h.pax !== null ? h.pax : {}) as Record<string, string>
    const raw = PAX_RAW_KEYS.some((k) => pax[k] !== undefined) ? guard.paxRaw.shift() : undefined
    const num = (v: string | undefined, fallback: number): number => v === undefined || v === '' ? fallback : Number(v)
    let rel: string | undefined
    try {
      rel = served(normalizeEntryPath(raw?.path ?? h.name, DEFAULT_UNPACK_LIMITS))
    } catch (er) {
      stream.resume()
      stream.on('end', () => next(er as Error))
      return
    }
    const perm = (h.mode ?? 0) & 0o7777
    const time = entryTime(pax.mtime, h.mtime)
    const meta: InodeMeta = {
      mode: perm | S_IFREG, uid: num(pax.uid, h.uid ?? 0), gid: num(pax.gid, h.gid ?? 0),
      devmajor: h.devmajor ?? 0, devminor: h.devminor ?? 0, mtime: time.sec, mtimeNsec: time.nsec, size: h.size ?? 0,
    }
    const done = (value?: string): void => {
      if (rel !== undefined && value !== undefined) emit(rel, value)
      next()
    }
    if (h.type === 'file' && rel !== undefined) {
      const sha = createHash('sha1')
      let size = 0
      stream.on('data', (c: unknown) => { sha.update(c as Buffer); size += (c as Buffer).length })
      stream.on('end', () => done(expectedValue(meta, backend, contentField(size, sha.digest('hex')))))
      return
    }
    stream.resume()
    stream.on('end', () => {
      if (rel === undefined) return done()
      switch (h.type) {
        case 'directory': return done(expectedValue({ ...meta, mode: perm | S_IFDIR }, backend, '-'))
        case 'symlink': {
          const target = Buffer.from(raw?.linkpath ?? h.linkname ?? '', 'latin1')
          return done(expectedValue({ ...meta, mode: S_IFLNK | 0o777 }, backend, contentField(target.length, createHash('sha1').update(target).digest('hex'))))
        }
        case 'link': {
          const target = served(normalizeEntryPath(raw?.linkpath ?? h.linkname ?? '', DEFAULT_UNPACK_LIMITS))
          if (target !== undefined) {
            try {
              if (lstatSync(fsPath(root, rel)).ino !== lstatSync(fsPath(root, target)).ino) {
                report({ name: quoted(rel), expected: `hardlink to ${quoted(target)}`, actual: 'a separate file' })
              }
            } catch { /* a missing name is reported by the listings */ }
          }
          return done('*')
        }
        default: {
          const type = SPECIAL_TYPE[h.type ?? '']
          if (type === undefined) return done(`unsupported type ${String(h.type)}`)
          return done(expectedValue({ ...meta, mode: type | perm }, backend, contentField(0, EMPTY_SHA1)))
        }
      }
    })
  })
  const decoder = openDecoder(spec, tarball)
  try {
    await pipeline(createReadStream(tarball, { highWaterMark: READ_CHUNK }), tap, decoder, guard, extract, ...(signal ? [{ signal }] : []) as [])
  } catch (er) {
    throw new XsError(toXsError(er).code === 'E_INTERNAL' ? 'E_ARCHIVE_CORRUPT' : toXsError(er).code,
      `cannot read the archive of build ${rec.name} (${tarball}): ${(er as Error).message}`, { path: tarball, cause: er })
  } finally {
    decoder.destroy()
    file.close()
  }
  const digest = md5.digest('hex')
  if (digest !== rec.md5) {
    throw new XsError('E_CHECKSUM', `${tarball} is not the archive build ${rec.name} was published from (md5 ${digest}, published ${rec.md5}); it cannot tell what the tree should hold`,
      { path: tarball, expected: rec.md5, actual: digest })
  }
  return entries
}

/** Walk the tree once: `QUOTED\tMTIME DISK CONTENT` (fake super) or `INO\tQUOTED\t...` (fakeroot). */
const walkTree = (root: string, out: string, byInode: boolean, signal?: AbortSignal): void => {
  const file = new LineFile(out)
  const buf = Buffer.alloc(READ_CHUNK)
  const visit = (rel: string): void => {
    signal?.throwIfAborted()
    const p = fsPath(root, rel)
    const st = lstatSync(p, { bigint: true })
    let local: string
    if (st.isDirectory()) local = `${nsTimeText(st.mtimeNs)} D -`
    else if (st.isSymbolicLink()) {
      const target = readlinkSync(p, { encoding: 'buffer' })
      local = `${nsTimeText(st.mtimeNs)} L ${contentField(target.length, createHash('sha1').update(target).digest('hex'))}`
    } else if (st.isFile()) {
      const sha = createHash('sha1')
      const fd = openSync(p, 'r')
      let size = 0
      try {
        for (let n = readSync(fd, buf, 0, READ_CHUNK, null); n > 0; n = readSync(fd, buf, 0, READ_CHUNK, null)) { sha.update(buf.subarray(0, n)); size += n }
      } finally {
        closeSync(fd)
      }
      local = `${nsTimeText(st.mtimeNs)} F ${contentField(size, sha.digest('hex'))}`
    } else local = `${nsTimeText(st.mtimeNs)} S -`
    file.line(byInode ? `${pad(st.ino)}\t${quoted(rel)}\t${local}` : `${quoted(rel)}\t${local}`)
    if (st.isDirectory()) {
      // one folder's names at a time (Node's opendir has no byte-string names)
      for (const b of readdirSync(p, { encoding: 'buffer' })) {
        const n = b.toString('latin1')
        visit(rel === '' ? n : `${rel}/${n}`)
      }
    }
  }
  try {
    visit('')
  } finally {
    file.close()
  }
}

/** Ownership as served: from the user.rsync.%stat xattrs (one getfattr over the tree) or the fakeroot state. */
const ownershipListing = async (layout: PublishLayout, root: string, out: string, backend: Backend): Promise<void> => {
  const file = new LineFile(out)
  try {
    if (backend === 'fakeroot') {
      const dev = lstatSync(root, { bigint: true }).dev
      for await (const line of lines(layout.fakerootState)) {
        const p = servedFromFakerootLine(line)
        if (p !== undefined && p[0] === dev) file.line(`${pad(p[1])}\t${p[2]}`)
      }
      return
    }
    const prefix = Buffer.from(root + '/')
    const child = spawn('getfattr', ['-R', '-P', '-h', '-n', FAKE_SUPER_XATTR, '--absolute-names', '--', root], { stdio: ['ignore', 'pipe', 'ignore'] })
    const exited = new Promise<void>((resolve, reject) => {
      child.on('error', (er) => reject(new XsError('E_TOOL_MISSING', `cannot run getfattr (Debian package "attr"): ${er.message}`, { cause: er })))
      child.on('close', () => resolve())
    })
    let name: string | undefined
    // getfattr writes bytes above 0x7f as they are: one char per byte
    child.stdout.setEncoding('latin1')
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      if (line.startsWith('# file: ')) {
        const bytes = unquoteFattrName(line.slice(8))
        name = bytes.equals(Buffer.from(root)) ? '.' : bytes.subarray(0, prefix.length).equals(prefix) ? quoteFattrName(bytes.subarray(prefix.length)) : undefined
      } else if (name !== undefined && line.startsWith(`${FAKE_SUPER_XATTR}="`) && line.endsWith('"')) {
        file.line(`${name}\t${servedFromFakeSuper(line.slice(FAKE_SUPER_XATTR.length + 2, -1)) ?? 'bad-ownership-data'}`)
        name = undefined
      }
    }
    await exited
  } finally {
    file.close()
  }
}

/** The actual listing (sorted): the walk joined with the ownership, by name or by inode. */
const actualListing = async (layout: PublishLayout, root: string, staging: string, backend: Backend, signal?: AbortSignal): Promise<string> => {
  const walk = join(staging, 'walk')
  const owners = join(staging, 'owners')
  const actual = join(staging, 'actual')
  const byInode = backend === 'fakeroot'
  walkTree(root, walk, byInode, signal)
  await ownershipListing(layout, root, owners, backend)
  await sortFile(walk, staging)
  await sortFile(owners, staging)
  const file = new LineFile(actual)
  try {
    const own = lines(owners)[Symbol.asyncIterator]()
    let o = await own.next()
    for await (const w of lines(walk)) {
      const [key, ...rest] = w.split('\t')
      while (o.done !== true && o.value.slice(0, o.value.indexOf('\t')) < key!) o = await own.next()
      const served = o.done !== true && o.value.slice(0, o.value.indexOf('\t')) === key ? o.value.slice(o.value.indexOf('\t') + 1) : 'no-ownership-data'
      if (byInode) file.line(`${rest[0]}\t${served} ${rest[1]}`)
      else file.line(`${key}\t${served} ${rest[0]}`)
    }
  } finally {
    file.close()
  }
  if (byInode) await sortFile(actual, staging)
  return actual
}
