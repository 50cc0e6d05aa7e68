import { execFileSync, spawn, type ChildProcessByStdio } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { Duplex, type Readable, type Writable } from 'node:stream'
import { XsError } from '@xs-rsync/core'
import type { ArchiveFormat } from './archive-format.js'
import { Bzip2JsDecoder } from './bzip2-js-decoder.js'
import { READ_CHUNK } from './read-chunk.js'

export type DecoderChoice = 'auto' | 'native' | 'js'

export type DecoderSpec =
  | { kind: 'native', command: string, args: string[] }
  | { kind: 'js' }

/** Full path of an executable on PATH, or undefined. */
export const findOnPath = (name: string, path = process.env.PATH ?? ''): string | undefined => {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue
    const file = join(dir, name)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch { /* next */ }
  }
  return undefined
}

/**
 * Memory xz may use to decode on several threads. It only sets how many
 * threads run, never whether a file decodes: above it xz decodes on one
 * thread. 96 MiB lets files made by `xz -T0 -6` (xz's default preset, 24 MiB
 * blocks) decode on two threads (measured: ~81 MiB resident).
 */
export const XZ_THREAD_MEMORY = '96MiB'

/**
 * True when `xz --version` output names liblzma 5.4 or later, the first with
 * a multi-threaded decoder (and --memlimit-mt-decompress). Pure.
 */
export const xzVersionDecodesThreaded = (versionText: string): boolean => {
  const m = /liblzma (\d+)\.(\d+)/.exec(versionText) ?? /XZ Utils\) (\d+)\.(\d+)/.exec(versionText)
  if (m === null) return false
  const [major, minor] = [Number(m[1]), Number(m[2])]
  return major > 5 || (major === 5 && minor >= 4)
}

const threadedXz = new Map<string, boolean>()
/** Whether the xz at `path` decodes on threads (asks it once per path). */
export const xzDecodesThreaded = (path: string): boolean => {
  let yes = threadedXz.get(path)
  if (yes === undefined) {
    try {
      yes = xzVersionDecodesThreaded(execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }))
    } catch {
      yes = false
    }
    threadedXz.set(path, yes)
  }
  return yes
}

/**
 * Threads for `lbzip2 -d`: one per CPU, at most LBZIP2_MAX_THREADS. Each
 * takes about 8 MiB (measured maximum resident size decoding the benchmark's
 * .tar.bz2: 8 MiB with 1 thread, 15 with 2, 31 with 4, 75 with 8, 135 with
 * 16), so the bound keeps a publish's processes within 150 MB together on a
 * server with many cores; more threads than CPUs is slower
 * (docs/performance.md). Pure.
 */
export const lbzip2Threads = (cpus: number): number => Math.max(1, Math.min(LBZIP2_MAX_THREADS, Math.floor(cpus)))
export const LBZIP2_MAX_THREADS = 4

/**
 * Which decoder to run. bz2: lbzip2 (parallel), else bzip2, else seek-bzip in
 * a worker ('js' forces it, 'native' forbids it); xz and lzma: xz, for .xz on
 * all CPUs when it can (xz >= 5.4 decodes the blocks of a multi-block file,
 * which `xz -T0` and xz >= 5.6 by default write, in parallel; plain
 * `tar -xJf` on xz 5.4 uses one thread). Pure given `find` and `threaded`.
 */
export const chooseDecoder = (format: ArchiveFormat, choice: DecoderChoice, find: (tool: string) => string | undefined,
  threaded: (xz: string) => boolean = () => false, cpus: number = availableParallelism()): DecoderSpec => {
  if (format === 'bz2') {
    if (choice === 'js') return { kind: 'js' }
    const lbzip2 = find('lbzip2')
    if (lbzip2 !== undefined) return { kind: 'native', command: lbzip2, args: ['-dc', `-n${lbzip2Threads(cpus)}`] }
    const bzip2 = find('bzip2')
    if (bzip2 !== undefined) return { kind: 'native', command: bzip2, args: ['-dc'] }
    if (choice === 'native') throw new XsError('E_TOOL_MISSING', 'neither lbzip2 nor bzip2 is installed (Debian packages "lbzip2" or "bzip2")')
    return { kind: 'js' }
  }
  const xz = find('xz')
  if (xz === undefined) throw new XsError('E_TOOL_MISSING', `xz is needed to unpack .tar.${format} builds (Debian package "xz-utils")`)
  if (format === 'lzma') return { kind: 'native', command: xz, args: ['-dc', '--format=lzma'] }
  const threads = threaded(xz) ? ['-T0', `--memlimit-mt-decompress=${XZ_THREAD_MEMORY}`] : []
  return { kind: 'native', command: xz, args: ['-dc', ...threads, '--format=xz'] }
}

/** A decoder as a Duplex: compressed bytes in, tar bytes out; ends only after a clean exit. */
export const openDecoder = (spec: DecoderSpec, tarball: string): Duplex =>
  spec.kind === 'js' ? new Bzip2JsDecoder(tarball) : new ChildDecoder(spec.command, spec.args, tarball)

/**
 * A native decoder process. Its output ends only once the process exited 0
 * with nothing on stderr and took all its input; otherwise it fails with
 * E_ARCHIVE_CORRUPT naming the tarball and quoting the tool.
 */
class ChildDecoder extends Duplex {
  readonly #child: ChildProcessByStdio<Writable, Readable, Readable>
  readonly #tool: string
  #stderr = ''
  #inputCut = false
  #closed = false

  constructor (command: string, args: string[], tarball: string) {
    super({ readableHighWaterMark: READ_CHUNK })
    this.#tool = command.slice(command.lastIndexOf('/') + 1)
    this.#child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    const child = this.#child
    child.on('error', (er) => this.destroy(new XsError('E_TOOL_MISSING', `cannot run ${command}: ${er.message}`, { cause: er })))
    child.stdin.on('error', () => { this.#inputCut = true })
    child.stderr.on('data', (d: Buffer) => { if (this.#stderr.length < 4096) this.#stderr += d.toString() })
    child.stdout.on('data', (d: Buffer) => { if (!this.push(d)) child.stdout.pause() })
    child.on('close', (code, signal) => {
      this.#closed = true
      if (this.destroyed) return
      const why = code !== 0 ? `${this.#tool} ${signal === null ? `exited with status ${code}` : `was killed by ${signal}`}`
        : this.#stderr !== '' ? `${this.#tool} complained`
          : this.#inputCut ? `${this.#tool} stopped before the end of the file` : undefined
      if (why === undefined) this.push(null)
      else {
        const said = this.#stderr.trim().split('\n').slice(0, 3).join('; ')
        this.destroy(new XsError('E_ARCHIVE_CORRUPT', `${tarball} is damaged: ${why}${said === '' ? '' : `: ${said}`}`, { path: tarball }))
      }
    })
  }

  override _write (chunk: Buffer, _enc: BufferEncoding, cb: (er?: Error | null) => void): void {
    if (this.#inputCut) return cb()
    this.#child.stdin.write(chunk, () => cb())
  }

  override _final (cb: (er?: Error | null) => void): void {
    if (this.#inputCut) return cb()
    this.#child.stdin.end(() => cb())
  }

  override _read (): void {
    this.#child.stdout.resume()
  }

  /** Kill the process and finish only once it is gone. */
  override _destroy (er: Error | null, cb: (er?: Error | null) => void): void {
    if (this.#closed || this.#child.exitCode !== null || this.#child.signalCode !== null) return cb(er)
    this.#child.once('close', () => cb(er))
    this.#child.kill('SIGKILL')
  }
}
