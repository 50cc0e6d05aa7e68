import { mkdir, readdir, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { appendJobRecord, atomicWrite, silentLog, type LogFn, type ProgressEvent, isProcessAlive as alive } from '@xs-rsync/core'

/** An ingest in progress: ROOT/state/ingest-running/PID.json (one file per process, so two never clobber). */
export interface RunningIngest {
  pid: number
  source: string
  startedAt: string
  updatedAt: string
  /** Numbered step: [step/steps] title. */
  step: number
  steps: number
  title: string
  build?: string
  /** Of the current step, when it has a size. */
  percent?: number
}

/** The last finished ingest: ROOT/state/status.json. */
export interface LastResult {
  finishedAt: string
  source: string
  ok: boolean
  published: string[]
  skipped: string[]
  /** The error code and message when refused or failed. */
  code?: string
  message?: string
  /** The final line the log showed. */
  line: string
  /** "signed by NOC key FPR (user id)" or "unsigned", once the signature was checked. */
  signer?: string
  /** The key that signed the stick; null when unsigned (permissive). */
  signedBy?: { fingerprint: string, userID: string } | null
}

export interface IngestStatus {
  running: RunningIngest[]
  last?: LastResult
}

export const statusFile = (stateDir: string): string => join(stateDir, 'status.json')
export const runningDir = (stateDir: string): string => join(stateDir, 'ingest-running')

const readJson = async <T>(file: string): Promise<T | undefined> => {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T
  } catch {
    return undefined
  }
}

/** What status shows: live ingests (files of dead processes are skipped) and the last result. */
export const readStatus = async (stateDir: string): Promise<IngestStatus> => {
  const names = await readdir(runningDir(stateDir)).catch(() => [] as string[])
  const running: RunningIngest[] = []
  for (const n of names.filter((x) => /^\d+\.json$/.test(x)).sort()) {
    const r = await readJson<RunningIngest>(join(runningDir(stateDir), n))
    if (r !== undefined && typeof r.pid === 'number' && alive(r.pid)) running.push(r)
  }
  const last = await readJson<LastResult>(statusFile(stateDir))
  return last === undefined ? { running } : { running, last }
}

/**
 * Whether a progress event is the one `xs-rsync status` shows: while
 * copying, the copy's (a tarball unpacked as it is copied reports too);
 * while publishing, the unpack's. Pure.
 */
export const showsInStatus = (ev: Pick<ProgressEvent, 'step' | 'bytesTotal'>, publishing: boolean): boolean =>
  ev.bytesTotal > 0 && (publishing ? ev.step === 'unpack' : ev.step === 'copy' || ev.step === 'verify')

/**
 * Keeps the status files of one ingest up to date. Writes are atomic and
 * serialized; progress writes at most once a second. A failure to write
 * status is logged once as a warning and never fails the ingest.
 */
export class StatusRecorder {
  readonly #stateDir: string
  readonly #file: string
  readonly #log: LogFn
  #cur: RunningIngest
  #queue: Promise<void> = Promise.resolve()
  #lastWrite = 0
  #warned = false

  constructor (stateDir: string, source: string, log: LogFn = silentLog) {
    this.#stateDir = stateDir
    this.#file = join(runningDir(stateDir), `${process.pid}.json`)
    this.#log = log
    const now = new Date().toISOString()
    this.#cur = { pid: process.pid, source, startedAt: now, updatedAt: now, step: 0, steps: 0, title: 'starting' }
  }

  #write (fn: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(fn).catch((er: unknown) => {
      if (!this.#warned) this.#log('warning', `Cannot write the status under ${this.#stateDir}: ${(er as Error).message}`)
      this.#warned = true
    })
    return this.#queue
  }

  #save (): void {
    this.#lastWrite = Date.now()
    const snapshot = JSON.stringify({ ...this.#cur, updatedAt: new Date().toISOString() }, null, 2) + '\n'
    void this.#write(async () => {
      await mkdir(runningDir(this.#stateDir), { recursive: true })
      await atomicWrite(this.#file, snapshot)
    })
  }

  step (step: number, steps: number, title: string): void {
    const { percent: _p, build: _b, ...rest } = this.#cur
    this.#cur = { ...rest, step, steps, title }
    this.#save()
  }

  progress (percent: number, build?: string): void {
    this.#cur = { ...this.#cur, percent, ...(build !== undefined && { build }) }
    if (Date.now() - this.#lastWrite >= 1000) this.#save()
  }

  /** Record the result (the last result, and in the history of jobs) and remove the running file. */
  async finish (last: LastResult): Promise<void> {
    await this.#write(async () => {
      await mkdir(this.#stateDir, { recursive: true })
      await atomicWrite(statusFile(this.#stateDir), JSON.stringify(last, null, 2) + '\n')
    })
    await this.#write(async () => {
      await appendJobRecord(this.#stateDir, {
        kind: 'ingest', args: [this.#cur.source], startedAt: this.#cur.startedAt, finishedAt: last.finishedAt, ok: last.ok,
        ...(last.code !== undefined && { code: last.code }), line: last.line, source: last.source, published: last.published, skipped: last.skipped,
        ...(last.signedBy !== undefined && { signedBy: last.signedBy === null ? null : last.signedBy.fingerprint }),
        ...(last.signer !== undefined && { signer: last.signer }),
      })
    })
    await this.#write(async () => {
      await unlink(this.#file).catch((er: NodeJS.ErrnoException) => { if (er.code !== 'ENOENT') throw er })
    })
  }
}
