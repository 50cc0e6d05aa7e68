import { silentLog, storeLayout, type LogFn, type OnProgress, type ProgressEvent, type XsConfig } from '@xs-rsync/core'
import type { ResolvedSource } from '../resolve-source.js'
import { showsInStatus, StatusRecorder } from '../status-record.js'
import type { IngestOptions } from './ingest-options.js'
import { INGEST_STEPS, ingestSteps, type IngestStep } from './ingest-steps.js'

/**
 * The one object the ingest stages pass along. Each stage reads what earlier
 * stages found and adds its own findings with `Object.assign`, so its type
 * grows with the row (`IngestContext & SourceFound & ManifestRead ...`).
 * What the end of the ingest reports (label, published, skipped) lives here
 * from the start, so a failure at any stage can report it.
 */
export interface IngestContext {
  readonly opts: IngestOptions
  readonly config: XsConfig
  /** `ingest --check`: verify everything, change nothing. */
  readonly check: boolean
  readonly log: LogFn
  readonly signal: AbortSignal | undefined
  /** The status files (absent with `check`). */
  readonly status: StatusRecorder | undefined
  /** The caller's progress, also shown in the status file. */
  readonly onProgress: OnProgress
  /** Enter a numbered step: logs `[n/N] title detail` and tells the status file. */
  step: (name: IngestStep, detail?: string) => void
  /** The step in progress. */
  current: IngestStep | undefined
  /** The stick, for people: opts.source until the stick is found. */
  label: string
  /** Set once the stick is found (and mounted): released when the ingest ends. */
  source?: ResolvedSource
  /** Builds published from this stick (with check: that would be). */
  published: string[]
  /** Builds on the stick already published (same tarball). */
  skipped: string[]
  /** "signed by NOC key FPR (user id)" or "unsigned", once the signature is checked. */
  signer?: string
}

export const createIngestContext = (opts: IngestOptions): IngestContext => {
  const log = opts.log ?? silentLog
  const check = opts.check === true
  const steps = ingestSteps(check)
  const status = check ? undefined : new StatusRecorder(storeLayout(opts.config.root).state, opts.source, log)
  const ctx: IngestContext = {
    opts,
    config: opts.config,
    check,
    log,
    signal: opts.signal,
    status,
    onProgress: (ev: ProgressEvent) => {
      opts.onProgress?.(ev)
      if (showsInStatus(ev, ctx.current === 'publish')) status?.progress(Math.floor((ev.bytesDone / ev.bytesTotal) * 100), ev.build)
    },
    step: (name, detail) => {
      const n = steps.indexOf(name) + 1
      const title = detail === undefined ? INGEST_STEPS[name] : `${INGEST_STEPS[name]} ${detail}`
      ctx.current = name
      log('notice', `[${n}/${steps.length}] ${title}`)
      status?.step(n, steps.length, title)
    },
    current: undefined,
    label: opts.source,
    published: [],
    skipped: [],
  }
  return ctx
}
