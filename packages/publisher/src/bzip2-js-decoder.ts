import { statSync } from 'node:fs'
import { Duplex } from 'node:stream'
import { Worker } from 'node:worker_threads'
import { XsError } from '@xs-rsync/core'
import { CTL, CTL_SLOTS, IN_CHUNK, IN_SLOTS, OUT_CHUNK, OUT_SLOTS, type InputMessage, type WorkerMessage, type WorkerShared } from './bzip2-js-protocol.js'

/**
 * seek-bzip's heap is small (its block buffers are typed arrays): a small
 * heap keeps the worker's RSS down. The parent's node options are not for
 * the worker (--input-type, for one, makes it fail).
 */
const options = { resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 }, execArgv: [] }

/** True when `built` exists and is newer than every file of `sources`. */
const builtIsCurrent = (built: URL, sources: URL[]): boolean => {
  try {
    const at = statSync(built).mtimeMs
    return sources.every((s) => statSync(s).mtimeMs <= at)
  } catch {
    return false
  }
}

const startWorker = (workerData: WorkerShared): Worker => {
  const here = import.meta.url
  if (!here.endsWith('.ts')) return new Worker(new URL('./bzip2-js-worker.js', here), { ...options, workerData })
  // Running from the TypeScript sources (tests under tsx). The worker built
  // from the same sources (`npm test` builds first) when it is current: a
  // worker that registers tsx's loader hooks itself can leave their message
  // ports behind when it is terminated, which keeps the process from exiting
  // (seen: unpack.ts held open until tap's 600 s timeout).
  const built = new URL('../dist/bzip2-js-worker.js', here)
  if (builtIsCurrent(built, [new URL('./bzip2-js-worker.ts', here), new URL('./bzip2-js-protocol.ts', here)])) {
    return new Worker(built, { ...options, workerData })
  }
  // Otherwise: on Node 20 a worker does not inherit the loader hooks, so register them before the import.
  const url = new URL('./bzip2-js-worker.ts', here).href
  return new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}) })`, { ...options, eval: true, workerData })
}

/**
 * Pure-JS bzip2 decoder as a Duplex (compressed in, decoded out), running
 * seek-bzip in a worker thread so the event loop stays free. Used when no
 * native bzip2 tool is installed, or on request. Damaged data is
 * E_ARCHIVE_CORRUPT naming `tarball`.
 */
export class Bzip2JsDecoder extends Duplex {
  readonly #tarball: string
  readonly #shared: WorkerShared = {
    control: new SharedArrayBuffer(CTL_SLOTS * 4),
    input: new SharedArrayBuffer(IN_CHUNK * IN_SLOTS),
    output: new SharedArrayBuffer(OUT_CHUNK * OUT_SLOTS),
  }

  readonly #ctl = new Int32Array(this.#shared.control)
  readonly #worker: Worker
  readonly #freeIn: number[] = [...Array(IN_SLOTS).keys()]
  #waiting: (() => void) | undefined
  #owed = 0
  #exited = false

  constructor (tarball: string) {
    super({ readableHighWaterMark: 1024 * 1024 })
    this.#tarball = tarball
    Atomics.store(this.#ctl, CTL.credits, OUT_SLOTS)
    this.#worker = startWorker(this.#shared)
    this.#worker.on('message', (m: WorkerMessage) => this.#onMessage(m))
    this.#worker.on('error', (er) => this.destroy(this.#corrupt(er.message)))
    this.#worker.on('exit', () => { this.#exited = true })
  }

  #corrupt (why: string): XsError {
    return new XsError('E_ARCHIVE_CORRUPT', `${this.#tarball} is damaged: bzip2 (seek-bzip): ${why}`, { path: this.#tarball })
  }

  #send (m: InputMessage): void {
    this.#worker.postMessage(m)
    Atomics.add(this.#ctl, CTL.inSeq, 1)
    Atomics.notify(this.#ctl, CTL.inSeq)
  }

  #onMessage (m: WorkerMessage): void {
    switch (m.type) {
      case 'took': {
        this.#freeIn.push(m.slot)
        const go = this.#waiting
        this.#waiting = undefined
        go?.()
        return
      }
      case 'data':
        // Copy out of the shared slot; the slot's credit goes back when we want more.
        this.#owed++
        if (this.push(Buffer.from(new Uint8Array(this.#shared.output, m.slot * OUT_CHUNK, m.length)))) this._read()
        return
      case 'end':
        // Its work is done: stop the thread rather than wait for it to end by itself (under
        // tsx in tests, the loader it registers kept it alive, and with it the process: CI
        // saw unpack.ts hang for 600 s after passing, with 5 such workers still running).
        this.#stop()
        this.push(null)
        return
      case 'error':
        this.destroy(this.#corrupt(m.message)) // _destroy stops the thread
    }
  }

  override _write (chunk: Buffer, _enc: BufferEncoding, cb: (er?: Error | null) => void): void {
    let off = 0
    const next = (): void => {
      while (off < chunk.length) {
        const slot = this.#freeIn.shift()
        if (slot === undefined) {
          this.#waiting = next
          return
        }
        const n = Math.min(IN_CHUNK, chunk.length - off)
        new Uint8Array(this.#shared.input, slot * IN_CHUNK, n).set(chunk.subarray(off, off + n))
        off += n
        this.#send({ slot, length: n })
      }
      cb()
    }
    next()
  }

  override _final (cb: (er?: Error | null) => void): void {
    this.#send(null)
    cb()
  }

  override _read (): void {
    if (this.#owed === 0) return
    Atomics.add(this.#ctl, CTL.credits, this.#owed)
    this.#owed = 0
    Atomics.notify(this.#ctl, CTL.credits)
  }

  /** End the thread (it may sit in Atomics.wait); it never holds the process open from here on. */
  #stop (): Promise<unknown> {
    Atomics.store(this.#ctl, CTL.abort, 1)
    Atomics.notify(this.#ctl, CTL.inSeq)
    Atomics.notify(this.#ctl, CTL.credits)
    if (this.#exited) return Promise.resolve()
    this.#worker.unref()
    return this.#worker.terminate().catch(() => undefined)
  }

  override _destroy (er: Error | null, cb: (er?: Error | null) => void): void {
    void this.#stop().then(() => cb(er))
  }
}
