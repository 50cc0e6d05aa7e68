/** The steps a job goes through; one union for ingest and publish. */
export type Step =
  | 'find' | 'mount' | 'manifest' | 'signature' | 'space' | 'copy'
  | 'verify' | 'unpack' | 'ownership' | 'commit' | 'publish' | 'config' | 'unmount' | 'cleanup'

/** The one progress event shape. */
export interface ProgressEvent {
  step: Step
  /** The build the event is about, when there is one. */
  build?: string
  bytesDone: number
  bytesTotal: number
  /** Bytes per second since the step started. */
  rate: number
  /** Seconds left at the current rate, when it can be known. */
  etaSeconds?: number
}

export type OnProgress = (ev: ProgressEvent) => void

export interface ProgressMeterOptions {
  step: Step
  build?: string
  bytesTotal: number
  onProgress?: OnProgress | undefined
  /** Emit at most this often (ms), unless a `percentStep` boundary is crossed. Default 30 s. */
  intervalMs?: number
  /** Emit whenever another this-many percent is done. Default 10. */
  percentStep?: number
  now?: () => number
}

/**
 * Turns a stream of byte counts into progress events at a bounded rate:
 * at every `percentStep` percent, at most every `intervalMs`, and once at the end.
 */
export class ProgressMeter {
  #opts: Required<Omit<ProgressMeterOptions, 'build' | 'onProgress'>> & Pick<ProgressMeterOptions, 'build' | 'onProgress'>
  #start: number
  #lastEmit: number
  #lastBucket = 0
  #lastEmitted = -1
  #done = 0
  #finished = false

  constructor (opts: ProgressMeterOptions) {
    this.#opts = { intervalMs: 30_000, percentStep: 10, now: Date.now, ...opts }
    this.#start = this.#opts.now()
    this.#lastEmit = this.#start
  }

  get bytesDone (): number {
    return this.#done
  }

  add (bytes: number): void {
    this.#done += bytes
    const now = this.#opts.now()
    const total = this.#opts.bytesTotal
    const bucket = total > 0 ? Math.floor((this.#done / total) * 100 / this.#opts.percentStep) : 0
    if (bucket > this.#lastBucket || now - this.#lastEmit >= this.#opts.intervalMs) {
      this.#lastBucket = Math.max(bucket, this.#lastBucket)
      this.#emit(now)
    }
  }

  /** Emit the final event (once; not again when the last one already said it all). */
  finish (): void {
    if (this.#finished) return
    this.#finished = true
    if (this.#lastEmitted === this.#done) return
    this.#emit(this.#opts.now())
  }

  #emit (now: number): void {
    const { onProgress, step, build, bytesTotal } = this.#opts
    if (!onProgress) return
    this.#lastEmit = now
    this.#lastEmitted = this.#done
    const secs = Math.max((now - this.#start) / 1000, 1e-3)
    const rate = this.#done / secs
    const ev: ProgressEvent = { step, bytesDone: this.#done, bytesTotal, rate }
    if (build !== undefined) ev.build = build
    if (rate > 0 && bytesTotal >= this.#done) ev.etaSeconds = (bytesTotal - this.#done) / rate
    onProgress(ev)
  }
}

const MB = 1024 * 1024

/** "copy: 120.0/300.0 MB (40%), 25.3 MB/s, 7 s left" */
export const formatProgress = (ev: ProgressEvent): string => {
  const pct = ev.bytesTotal > 0 ? ` (${Math.floor((ev.bytesDone / ev.bytesTotal) * 100)}%)` : ''
  const eta = ev.etaSeconds === undefined ? '' : `, ${formatDuration(ev.etaSeconds)} left`
  return `${ev.build === undefined ? '' : ev.build + ': '}${ev.step} ` +
    `${(ev.bytesDone / MB).toFixed(1)}/${(ev.bytesTotal / MB).toFixed(1)} MB${pct}, ` +
    `${(ev.rate / MB).toFixed(1)} MB/s${eta}`
}

export const formatDuration = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${s % 60} s`
  return `${Math.floor(m / 60)} h ${m % 60} min`
}
