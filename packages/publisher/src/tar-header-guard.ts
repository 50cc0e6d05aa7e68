import { Transform, type TransformCallback } from 'node:stream'
import { XsError } from '@xs-rsync/core'
import { showPath } from './entry-path.js'

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
  maxHeaderBytes: number
}

const BLOCK = 512
/** Decoded bytes tolerated after the end-of-archive marker (tar pads to 10 KiB records). */
const MAX_TRAILER_BYTES = 16 * 1024 * 1024

const META_TYPES: Record<string, string> = { x: 'pax header', g: 'pax global header', L: 'GNU long name', K: 'GNU long link name' }
const ENTRY_TYPES = new Set(['0', '\0', '1', '2', '3', '4', '5', '6'])

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

/** True when the header checksum (unsigned sum, checksum field as spaces) matches, as tar-stream requires. */
export const tarChecksumOk = (block: Uint8Array): boolean => {
  let sum = 8 * 32
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += block[i] ?? 0
  const want = parseTarNumber(block.subarray(148, 156))
  return typeof want === 'number' && want === sum
}

/** pax extended header records ("LEN key=value\n"), values as raw bytes; throws on malformed records. */
export const parsePaxRecords = (buf: Uint8Array): Map<string, Buffer> => {
  const out = new Map<string, Buffer>()
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
    out.set(rec.toString('utf8', 0, eq), rec.subarray(eq + 1, rec.length - 1))
    off += len
  }
  return out
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
  #lastName = '(start of archive)'
  #total = 0
  #ended = false
  #trailer = 0
  #offset = 0

  constructor (tarball: string, limits: GuardLimits) {
    super({ readableHighWaterMark: 1024 * 1024 })
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
      if (this.#paxSize !== undefined || this.#paxRaw !== undefined || this.#longName !== undefined) throw this.#corrupt('ends after a pax or long-name header with no entry')
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
      if (field > this.#limits.maxHeaderBytes) {
        throw this.#unsafe(`has a ${metaKind} of ${field} bytes at byte ${this.#offset} (limit ${this.#limits.maxHeaderBytes}), after ${showPath(this.#lastName)}`)
      }
      this.#meta = { type, size: field, parts: [], got: 0 }
      this.#payload = roundUp(field)
      if (this.#payload === 0) this.#endMeta()
      return true
    }
    this.#lastName = name
    if (!ENTRY_TYPES.has(type)) {
      throw this.#unsafe(`entry ${showPath(name)} has an unsupported type ${JSON.stringify(type)}${type === '7' ? ' (contiguous file)' : ''}`)
    }
    const size = this.#paxSize ?? field
    this.#paxSize = undefined
    if (this.#paxRaw !== undefined) this.paxRaw.push(this.#paxRaw)
    this.#paxRaw = undefined
    this.#longName = undefined
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
      recs = parsePaxRecords(data)
    } catch (er) {
      throw this.#corrupt(`has a ${META_TYPES[meta.type]} after ${showPath(this.#lastName)} that is malformed: ${(er as Error).message}`)
    }
    if (meta.type === 'g') {
      // tar-stream applies a global header only to entries with their own pax header; GNU tar to all.
      const key = ['path', 'linkpath', 'size'].find((k) => recs.has(k))
      if (key !== undefined) throw this.#unsafe(`has a pax global header that sets "${key}"`)
      return
    }
    if (PAX_RAW_KEYS.some((k) => recs.has(k))) {
      const raw: PaxRaw = this.#paxRaw = {}
      const path = recs.get('path')?.toString('latin1')
      const linkpath = recs.get('linkpath')?.toString('latin1')
      const capability = recs.get('SCHILY.xattr.security.capability')
      if (path !== undefined && path !== '') raw.path = this.#longName = path
      if (linkpath !== undefined && linkpath !== '') raw.linkpath = linkpath
      if (capability !== undefined && capability.length > 0) raw.capability = capability
    }
    const size = recs.get('size')
    if (size !== undefined && size.length > 0) {
      const text = size.toString('latin1')
      if (!/^[0-9]{1,16}$/.test(text)) throw this.#corrupt(`has a pax size "${text}" that is not a number`)
      this.#paxSize = Number(text)
    }
  }

  #corrupt (why: string): XsError {
    return new XsError('E_ARCHIVE_CORRUPT', `${this.#tarball} ${why}`, { path: this.#tarball, entry: this.#lastName })
  }

  #unsafe (why: string): XsError {
    return new XsError('E_ARCHIVE_UNSAFE', `${this.#tarball} ${why}`, { path: this.#tarball, entry: this.#lastName })
  }
}

const roundUp = (n: number): number => Math.ceil(n / BLOCK) * BLOCK
