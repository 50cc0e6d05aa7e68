import { chown, lstat, mkdir, readdir, readFile, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { atomicWrite } from './atomic-write.js'
import { isProcessAlive } from './is-process-alive.js'

/** How many finished jobs `xs-rsync status` keeps. */
export const HISTORY_SIZE = 50

/** One finished job: ROOT/state/history/TIME-PID.json. */
export interface JobRecord {
  /** ingest, refresh, publish, remove, prune, verify, ... */
  kind: string
  /** The command's arguments as given (ingest: the stick). */
  args: string[]
  startedAt: string
  finishedAt: string
  ok: boolean
  /** Error code when it failed. */
  code?: string
  /** Its final line (DONE:, FAILED:, CHECKED:). */
  line: string
  /** ingest: the stick, the builds published / skipped, who signed (fingerprint; null = unsigned). */
  source?: string
  published?: string[]
  skipped?: string[]
  signedBy?: string | null
  /** ingest: "signed by NOC key FPR (user id)" or "unsigned", once the signature was checked. */
  signer?: string
}

/** A job in progress that is not an ingest (those have their own, richer file): ROOT/state/jobs-running/PID.json. */
export interface RunningJob {
  pid: number
  kind: string
  args: string[]
  startedAt: string
}

const historyDir = (stateDir: string): string => join(stateDir, 'history')
const jobsDir = (stateDir: string): string => join(stateDir, 'jobs-running')

/**
 * A job runs as root (the stick job mounts) on a store the service user owns:
 * what it writes under ROOT/state is handed to the store's owner, or later
 * unprivileged jobs could not replace or prune it. Does nothing when not root
 * or when root owns the store.
 */
const giveToOwner = async (stateDir: string, paths: string[]): Promise<void> => {
  if (process.geteuid?.() !== 0) return
  const owner = await lstat(dirname(stateDir)).catch(() => undefined)
  if (owner === undefined || owner.uid === 0) return
  for (const p of paths) await chown(p, owner.uid, owner.gid).catch(() => {})
}

const readJson = async <T>(file: string): Promise<T | undefined> => {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T
  } catch {
    return undefined
  }
}

/**
 * Add a finished job to the history and drop all but the newest
 * HISTORY_SIZE. One file per job, so two jobs finishing at once never lose
 * each other's record.
 */
export const appendJobRecord = async (stateDir: string, rec: JobRecord): Promise<void> => {
  const dir = historyDir(stateDir)
  await mkdir(dir, { recursive: true })
  const file = join(dir, `${rec.finishedAt.replace(/[-:.]/g, '')}-${process.pid}.json`)
  await atomicWrite(file, JSON.stringify(rec, null, 2) + '\n')
  await giveToOwner(stateDir, [stateDir, dir, file])
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort()
  for (const n of names.slice(0, Math.max(0, names.length - HISTORY_SIZE))) await unlink(join(dir, n)).catch(() => {})
}

/** The history, newest first. */
export const readJobHistory = async (stateDir: string): Promise<JobRecord[]> => {
  const names = (await readdir(historyDir(stateDir)).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort().reverse()
  const recs = await Promise.all(names.slice(0, HISTORY_SIZE).map((n) => readJson<JobRecord>(join(historyDir(stateDir), n))))
  return recs.filter((r): r is JobRecord => r !== undefined && typeof r.kind === 'string' && typeof r.line === 'string')
}

/** Say that this process runs a job; the returned function ends it (and records it). */
export const startJob = async (stateDir: string, kind: string, args: string[]): Promise<(end: Omit<JobRecord, 'kind' | 'args' | 'startedAt' | 'finishedAt'>) => Promise<void>> => {
  const job: RunningJob = { pid: process.pid, kind, args, startedAt: new Date().toISOString() }
  const file = join(jobsDir(stateDir), `${process.pid}.json`)
  await mkdir(jobsDir(stateDir), { recursive: true })
  await atomicWrite(file, JSON.stringify(job, null, 2) + '\n')
  await giveToOwner(stateDir, [stateDir, jobsDir(stateDir), file])
  return async (end) => {
    await unlink(file).catch(() => {})
    await appendJobRecord(stateDir, { kind, args, startedAt: job.startedAt, finishedAt: new Date().toISOString(), ...end })
  }
}

/** Jobs in progress (files of dead processes are skipped). */
export const readRunningJobs = async (stateDir: string): Promise<RunningJob[]> => {
  const names = (await readdir(jobsDir(stateDir)).catch(() => [] as string[])).filter((n) => /^\d+\.json$/.test(n)).sort()
  const jobs = await Promise.all(names.map((n) => readJson<RunningJob>(join(jobsDir(stateDir), n))))
  return jobs.filter((j): j is RunningJob => j !== undefined && typeof j.pid === 'number' && isProcessAlive(j.pid))
}
