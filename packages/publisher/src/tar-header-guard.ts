import { Transform, type TransformCallback } from 'node:stream'
import { XsError } from '@xs-rsync/core'
import { showPath } from './entry-path.js'
import { READ_CHUNK } from './read-chunk.js'

/** pax keys whose values the guard keeps raw for the writer. */
export const PAX_RAW_KEYS = ['path', 'linkpath', 'SCHILY.xattr.security.capability'] as const

/** Raw values a pax header set for one entry (names as latin1 byte strings). */
export interface PaxRaw {
  path?: string
  linkpath?: string
  /** File capabilities (GNU tar --xattrs). */
  capability?: Buffer
}

export interface GuardLimits {
  maxUnpackedBytes: number
  /** Largest pax header payload. */
  maxHeaderBytes: number
  /** Longest entry or link name (GNU long names and pax path/linkpath are held to it before they are read). */
  maxPathBytes: number
  /** Most records in one pax header. */
  maxPaxRecords: number
}

const BLOCK = 512
/** Decoded bytes tolerated after the end-of-archive marker (tar pads to 10 KiB records). */
const MAX_TRAILER_BYTES = 16 * 1024 * 1024

const META_TYPES: Record<string, string> = { x: 'pax header', g: 'pax global header', L: 'GNU long name', K: 'GNU long link name' }
const ENTRY_TYPES = new Set(['0', '\0', '1', '2', '3', '4', '5', '6'])
/** Slack over maxPathBytes for a raw name: a leading "./" and GNU's terminating NUL. */
const NAME_SLACK = 3

/**
 * Keys a pax global header may set. GNU tar applies a global header's records
 * to every later entry; tar-stream only to entries with their own pax header.
 * These keys change nothing xs-rsync serves (names are numeric, atime and
 * ctime are not served), so the two agree; any other key is refused.
 */
export const PAX_GLOBAL_KEYS = new Set(['comment', 'charset', 'atime', 'ctime', 'uname', 'gname'])

/** pax keys GNU tar reads that xs-rsync does not: refused rather than served differently. */
const PAX_UNREAD_KEYS = ['SCHILY.devmajor', 'SCHILY.devminor', 'SCHILY.realsize']

/** Header fields that must not be negative (base-256 with the sign byte 0xff). */
const SIGNED_FIELDS: [string, number, number][] = [['mode', 100, 8], ['uid', 108, 8], ['gid', 116, 8], ['device major', 329, 8], ['device minor', 337, 8]]
const MTIME_AT = 136
const MTIME_LEN = 12

/** Value of a tar numeric field: octal text or base-256; 'negative' or 'bad' when not a size. */
export const parseTarNumber = (field: Uint8Array): number | 'negative' | 'bad' => {
  const first = field[0] ?? 0
  if (first === 0xff) return 'negative'
  if (first === 0x80) return field.subarray(1).reduce((n, b) => n * 256 + b, 0)
  if (first & 0x80) return 'bad'
  const m = /^ *([0-7]*)[ \0]*$/.exec(Buffer.from(field).toString('latin1'))
  if (m === null) return 'bad'
  return m[1] === '' ? 0 : parseInt(m[1] ?? '', 8)
}

/** Value of a base-256 field with the sign byte 0xff (two's complement); undefined beyond 2^53. */
export const parseNegativeBase256 = (field: Uint8Array): number | undefined => {
  let m = 0n
  for (const b of field) m = (m << 8n) | BigInt(0xff - b)
  const v = -(m + 1n)
  return v < -BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(v)
}

/**
 * Write `v` (negative) into a base-256 field so that tar-stream reads it
 * right: tar-stream's parse256 reads 0xff-prefixed fields one too close to
 * zero (-1 becomes -0, which a Date turns into 0), so the field gets v - 1.
 */
export const encodeForTarStream = (field: Uint8Array, v: number): void => {
  let x = (1n << BigInt(8 * field.length)) + BigInt(v - 1)
  for (let i = field.length - 1; i >= 0; i--) {
    field[i] = Number(x & 0xffn)
    x >>= 8n
  }
}

/** Recompute a header's checksum field ("%06o\0 ", as GNU tar writes it). */
export const setTarChecksum = (block: Uint8Array): void => {
  let sum = 8 * 32
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += block[i] ?? 0
  Buffer.from(block.buffer, block.byteOffset, block.byteLength).write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1')
}

/** True when the header checksum (unsigned sum, checksum field as spaces) matches, as tar-stream requires. */
export const tarChecksumOk = (block: Uint8Array): boolean => {
  let sum = 8 * 32
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += block[i] ?? 0
  const want = parseTarNumber(block.subarray(148, 156))
  return typeof want === 'number' && want === sum
}

/** pax extended header records ("LEN key=value\n"), values as raw bytes; throws on malformed records. */
export const parsePaxRecords = (buf: Uint8Array, maxRecords = Infinity): Map<string, Buffer> => {
  const out = new Map<string, Buffer>()
  let count = 0
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  let off = 0
  while (off < b.length) {
    if (b[off] === 0) break // NUL padding after the last record
    const sp = b.indexOf(0x20, off)
    const lenText = sp < 0 ? '' : b.toString('latin1', off, sp)
    const len = /^[1-9][0-9]{0,8}$/.test(lenText) ? Number(lenText) : 0
    const rec = b.subarray(sp + 1, off + len)
    const eq = rec.indexOf(0x3d)
    if (len === 0 || off + len > b.length || b[off + len - 1] !== 0x0a || eq < 1) throw new Error(`malformed pax record at byte ${off}`)
    if (++count > maxRecords) throw new PaxRecordLimit(maxRecords)
    out.set(rec.toString('utf8', 0, eq), rec.subarray(eq + 1, rec.length - 1))
    off += len
  }
  return out
}

/** More records in one pax header than the limit allows. */
export class PaxRecordLimit extends Error {
  constructor (readonly limit: number) {
    super(`more than ${limit} pax records`)
  }
}

const cstr = (b: Uint8Array, start: number, len: number): string => {
  const f = b.subarray(start, start + len)
  const nul = f.indexOf(0)
  return Buffer.from(f.subarray(0, nul < 0 ? len : nul)).toString('latin1')
}

const isZeroBlock = (b: Uint8Array): boolean => {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false
  return true
}

/**
 * Sits between the decoder and tar-stream and follows the 512-byte block
 * structure itself, so that nothing reaches tar-stream's buffers unchecked:
 * headers must have a valid checksum and ustar/GNU magic, sizes must be sane
 * and within the limits, pax and GNU long-name payloads must be small (they
 * are rejected from their header, before any of the payload is read), and
 * entry types must be ones we unpack. It stops at the end-of-archive marker,
 * as GNU tar does, and reports truncation.
 */
export class TarHeaderGuard extends Transform {
  readonly #limits: GuardLimits
  readonly #tarball: string
  #head = Buffer.alloc(0)
  /** Bytes of the current payload (with padding) still to pass. */
  #payload = 0
  /** Collecting a pax/long-name payload of this type. */
  #meta: { type: string, size: number, parts: Buffer[], got: number } | undefined
  #paxSize: number | undefined
  #paxRaw: PaxRaw | undefined
  /**
   * Raw pax values, one item per entry whose pax header had one of
   * PAX_RAW_KEYS, in archive order. tar-stream decodes pax values as UTF-8,
   * which loses non-UTF-8 names (GNU tar writes them raw with
   * hdrcharset=BINARY) and binary xattrs.
   */
  readonly paxRaw: PaxRaw[] = []
  #longName: string | undefined
  /** Extension headers seen since the last entry (GNU tar keeps only the last of each kind; xs-rsync refuses a second). */
  #seen = new Set<string>()
  #lastName = '(start of archive)'
  #total = 0
  #ended = false
  #trailer = 0
  #offset = 0

  constructor (tarball: string, limits: GuardLimits) {
    super({ readableHighWaterMark: READ_CHUNK })
    this.#tarball = tarball
    this.#limits = limits
  }

  /** True once the end-of-archive marker was seen. */
  get ended (): boolean {
    return this.#ended
  }

  override _transform (chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.#take(chunk)
      cb()
    } catch (er) {
      cb(er as Error)
    }
  }

  override _flush (cb: TransformCallback): void {
    if (!this.#ended && (this.#payload > 0 || this.#meta !== undefined || this.#head.length > 0)) {
      cb(this.#corrupt(`is truncated: the tar data ends inside ${showPath(this.#lastName)}`))
      return
    }
    if (!this.#ended && this.#offset === 0) {
      cb(this.#corrupt('holds no entries: the tar data is empty'))
      return
    }
    if (!this.#ended) {
      // GNU tar extracts such an archive without a word, but a tarball cut at an
      // entry boundary looks the same: refused (docs/security.md, "end of archive").
      cb(this.#corrupt(`has no end-of-archive marker (the tar data stops after ${showPath(this.#lastName)}): it may be truncated`))
      return
    }
    cb()
  }

  /**
   * Checks the bytes of `chunk` in order and passes on those that go to
   * tar-stream. Checked bytes that lie together in `chunk` go on as one
   * piece (`run` .. `off`), not one piece per header and payload: tar-stream
   * and the stream plumbing cost per piece, and most entries are small.
   */
  #take (chunk: Buffer): void {
    let off = 0
    let run = 0
    const flush = (): void => {
      if (off > run) this.push(chunk.subarray(run, off))
      run = off
    }
    while (off < chunk.length) {
      if (this.#ended) {
        flush()
        this.#trailer += chunk.length - off
        if (this.#trailer > MAX_TRAILER_BYTES) throw this.#unsafe(`holds more than ${MAX_TRAILER_BYTES} bytes after the end-of-archive marker`)
        return
      }
      if (this.#payload > 0) {
        const n = Math.min(this.#payload, chunk.length - off)
        if (this.#meta !== undefined) this.#collect(chunk.subarray(off, off + n))
        this.#payload -= n
        off += n
        this.#offset += n
        if (this.#payload === 0 && this.#meta !== undefined) this.#endMeta()
        continue
      }
      if (this.#head.length === 0 && chunk.length - off >= BLOCK) {
        // a whole header inside this chunk: checked in place, passed on with the run
        if (!this.#header(chunk.subarray(off, off + BLOCK))) {
          flush()
          run += BLOCK // the end-of-archive marker is not passed on
        }
        off += BLOCK
        this.#offset += BLOCK
        continue
      }
      // a header split across chunks: gathered, then passed on by itself
      flush()
      const n = Math.min(BLOCK - this.#head.length, chunk.length - off)
      this.#head = Buffer.concat([this.#head, chunk.subarray(off, off + n)])
      off += n
      run = off
      if (this.#head.length === BLOCK) {
        const block = this.#head
        this.#head = Buffer.alloc(0)
        if (this.#header(block)) this.push(block)
        this.#offset += BLOCK
      }
    }
    flush()
  }

  /** Check one header block; true when it goes on to tar-stream (false: the end-of-archive marker). */
  #header (block: Buffer): boolean {
    if (isZeroBlock(block)) {
      if (this.#seen.size > 0) throw this.#corrupt('ends after a pax or long-name header with no entry')
      this.#ended = true
      return false
    }
    const raw = cstr(block, 0, 100)
    const magic = block.toString('latin1', 257, 263)
    const ustarName = magic === 'ustar\0' && block[345] !== 0 ? `${cstr(block, 345, 155)}/${raw}` : raw
    const name = this.#longName ?? ustarName
    if (!tarChecksumOk(block)) throw this.#corrupt(`has a bad tar header checksum at byte ${this.#offset} (after ${showPath(this.#lastName)})`)
    if (magic !== 'ustar\0' && !(magic === 'ustar ' && block[263] === 0x20 && block[264] === 0)) {
      throw this.#corrupt(`has a tar header without ustar/GNU magic at byte ${this.#offset}`)
    }
    const type = String.fromCharCode(block[156] ?? 0)
    const field = parseTarNumber(block.subarray(124, 136))
    if (field === 'negative') throw this.#unsafe(`entry ${showPath(name)} has a negative size`)
    if (field === 'bad') throw this.#corrupt(`entry ${showPath(name)} has a malformed size field`)
    const metaKind = META_TYPES[type]
    if (metaKind !== undefined) {
      const limit = type === 'L' || type === 'K' ? this.#limits.maxPathBytes + NAME_SLACK : this.#limits.maxHeaderBytes
      if (field > limit) {
        throw this.#unsafe(`has a ${metaKind} of ${field} bytes at byte ${this.#offset} (limit ${limit}), after ${showPath(this.#lastName)}`)
      }
      if (type !== 'g') this.#extension(type, metaKind)
      this.#meta = { type, size: field, parts: [], got: 0 }
      this.#payload = roundUp(field)
      if (this.#payload === 0) this.#endMeta()
      return true
    }
    this.#lastName = name
    if (type === 'S') throw this.#unsafe(`entry ${showPath(name)} ${SPARSE_REFUSAL('the old GNU format')}`)
    if (!ENTRY_TYPES.has(type)) {
      throw this.#unsafe(`entry ${showPath(name)} has an unsupported type ${JSON.stringify(type)}${type === '7' ? ' (contiguous file)' : ''}`)
    }
    this.#signedFields(block, name)
    const size = this.#paxSize ?? field
    this.#paxSize = undefined
    if (this.#paxRaw !== undefined) this.paxRaw.push(this.#paxRaw)
    this.#paxRaw = undefined
    this.#longName = undefined
    this.#seen.clear()
    // tar-stream (like old tars) takes a plain file whose ustar name ends in "/" for a directory.
    const isDir = type === '5' || ((type === '0' || type === '\0') && ustarName.endsWith('/'))
    if (isDir && size !== 0) throw this.#corrupt(`directory ${showPath(name)} has a size of ${size} bytes`)
    this.#total += size
    if (size > this.#limits.maxUnpackedBytes || this.#total > this.#limits.maxUnpackedBytes) {
      throw this.#unsafe(`entry ${showPath(name)} takes the unpacked size over ${this.#limits.maxUnpackedBytes} bytes`)
    }
    this.#payload = roundUp(size)
    return true
  }

  #collect (piece: Buffer): void {
    const meta = this.#meta
    if (meta === undefined || meta.got >= meta.size) return
    const want = piece.subarray(0, meta.size - meta.got)
    meta.parts.push(Buffer.from(want))
    meta.got += want.length
  }

  #endMeta (): void {
    const meta = this.#meta
    this.#meta = undefined
    if (meta === undefined) return
    const data = Buffer.concat(meta.parts)
    if (meta.type === 'L') {
      this.#longName = cstr(data, 0, data.length)
      return
    }
    if (meta.type === 'K') return
    let recs: Map<string, Buffer>
    try {
      recs = parsePaxRecords(data, this.#limits.maxPaxRecords)
    } catch (er) {
      if (er instanceof PaxRecordLimit) throw this.#unsafe(`has a ${META_TYPES[meta.type]} after ${showPath(this.#lastName)} with ${er.message}`)
      throw this.#corrupt(`has a ${META_TYPES[meta.type]} after ${showPath(this.#lastName)} that is malformed: ${(er as Error).message}`)
    }
    if (meta.type === 'g') {
      // GNU tar applies a global header to every later entry, tar-stream only to entries with their own pax header.
      const key = [...recs.keys()].find((k) => !PAX_GLOBAL_KEYS.has(k))
      if (key !== undefined) {
        throw this.#unsafe(`has a pax global header that sets ${JSON.stringify(key)} (after ${showPath(this.#lastName)}): GNU tar would apply it to every later entry; xs-rsync refuses it`)
      }
      return
    }
    this.#checkPaxKeys(recs)
    if (PAX_RAW_KEYS.some((k) => recs.has(k))) {
      const raw: PaxRaw = this.#paxRaw = {}
      const path = recs.get('path')?.toString('latin1')
      const linkpath = recs.get('linkpath')?.toString('latin1')
      const capability = recs.get('SCHILY.xattr.security.capability')
      if (path !== undefined && path !== '') raw.path = this.#longName = path
      if (linkpath !== undefined && linkpath !== '') raw.linkpath = linkpath
      if (capability !== undefined && capability.length > 0) raw.capability = capability
    }
    for (const [key, re] of PAX_NUMBERS) {
      const v = recs.get(key)
      if (v !== undefined && v.length > 0 && !re.test(v.toString('latin1'))) {
        throw this.#corrupt(`has a pax ${key} "${v.toString('latin1').slice(0, 40)}" that is not a number (entry after ${showPath(this.#lastName)})`)
      }
    }
    const size = recs.get('size')
    if (size !== undefined && size.length > 0) {
      const text = size.toString('latin1')
      if (!/^[0-9]{1,16}$/.test(text)) throw this.#corrupt(`has a pax size "${text}" that is not a number`)
      this.#paxSize = Number(text)
    }
  }

  /** A second extension header of one kind before an entry, or a pax header beside GNU long names: refused. */
  #extension (type: string, kind: string): void {
    if (this.#seen.has(type)) throw this.#unsafe(`has two ${kind}s for one entry (after ${showPath(this.#lastName)}); GNU tar would use only the last`)
    if (type === 'x' ? this.#seen.has('L') || this.#seen.has('K') : this.#seen.has('x')) {
      throw this.#unsafe(`mixes a pax header and a GNU long name for one entry (after ${showPath(this.#lastName)})`)
    }
    this.#seen.add(type)
  }

  /** pax records of one entry that xs-rsync cannot restore as GNU tar does are refused. */
  #checkPaxKeys (recs: Map<string, Buffer>): void {
    const next = `the entry after ${showPath(this.#lastName)}`
    const sparse = [...recs.keys()].filter((k) => k.startsWith('GNU.sparse.'))
    if (sparse.length > 0) {
      const name = recs.get('GNU.sparse.name')?.toString('latin1') ?? recs.get('path')?.toString('latin1')
      const format = recs.has('GNU.sparse.major') ? `pax format ${recs.get('GNU.sparse.major')?.toString('latin1') ?? '?'}.${recs.get('GNU.sparse.minor')?.toString('latin1') ?? '?'}`
        : recs.has('GNU.sparse.map') ? 'pax format 0.1' : 'pax format 0.0'
      throw this.#unsafe(`entry ${name === undefined ? next : showPath(name)} ${SPARSE_REFUSAL(format)}`)
    }
    const unread = PAX_UNREAD_KEYS.find((k) => recs.has(k))
    if (unread !== undefined) throw this.#unsafe(`has a pax header for ${next} that sets ${unread}, which xs-rsync does not restore`)
    for (const key of ['path', 'linkpath']) {
      const v = recs.get(key)
      if (v !== undefined && v.length > this.#limits.maxPathBytes + NAME_SLACK) {
        throw this.#unsafe(`has a pax ${key} of ${v.length} bytes for ${next} (limit ${this.#limits.maxPathBytes})`)
      }
    }
  }

  /** Negative mode, owner or device fields are refused; a negative mtime is rewritten for tar-stream to read right. */
  #signedFields (block: Buffer, name: string): void {
    for (const [what, at, len] of SIGNED_FIELDS) {
      if (block[at] === 0xff) throw this.#unsafe(`entry ${showPath(name)} has a negative ${what} field`)
    }
    if (block[MTIME_AT] !== 0xff) return
    const field = block.subarray(MTIME_AT, MTIME_AT + MTIME_LEN)
    const v = parseNegativeBase256(field)
    if (v === undefined) throw this.#unsafe(`entry ${showPath(name)} has a modification time out of range`)
    encodeForTarStream(field, v)
    setTarChecksum(block)
  }

  #corrupt (why: string): XsError {
    return new XsError('E_ARCHIVE_CORRUPT', `${this.#tarball} ${why}`, { path: this.#tarball, entry: this.#lastName })
  }

  #unsafe (why: string): XsError {
    return new XsError('E_ARCHIVE_UNSAFE', `${this.#tarball} ${why}`, { path: this.#tarball, entry: this.#lastName })
  }
}

const roundUp = (n: number): number => Math.ceil(n / BLOCK) * BLOCK

/** pax numbers xs-rsync reads, in the forms GNU tar accepts. */
const PAX_NUMBERS: [string, RegExp][] = [['uid', /^[0-9]{1,10}$/], ['gid', /^[0-9]{1,10}$/], ['mtime', /^-?[0-9]{1,20}(\.[0-9]{0,30})?$/]]

const SPARSE_REFUSAL = (format: string): string =>
  `is a GNU sparse file (${format}); xs-rsync does not unpack sparse files: make the build with tar without --sparse`
