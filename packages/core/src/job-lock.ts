import { open, type FileHandle } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { XsError } from './xs-error.js'

/**
 * A held lock; release() (or process death, even SIGKILL) frees it.
 */
export interface JobLock {
  readonly path: string
  release(): Promise<void>
}

export interface LockOptions {
  /** Wait for the holder to finish (true) or fail with E_LOCKED at once (false). */
  wait: boolean
  /** Called once when we have to wait, so the person can be told. */
  onWait?: () => void
  /** Give up waiting after this many seconds (E_LOCKED). Default: no limit. */
  timeoutSeconds?: number
  /** Stop waiting when aborted (rejects with the abort reason). */
  signal?: AbortSignal
}

const runFlock = (fd: number, args: string[], signal?: AbortSignal): Promise<number> =>
  new Promise((resolve, reject) => {
    const child = spawn('flock', [...args, '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] })
    const onAbort = (): void => { child.kill() }
    signal?.addEventListener('abort', onAbort, { once: true })
    child.on('close', () => { signal?.removeEventListener('abort', onAbort) })
    let err = ''
    child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
    child.on('error', (er) => reject(new XsError('E_TOOL_MISSING', `cannot run flock (util-linux): ${er.message}`, { cause: er })))
    child.on('close', (code) => {
      if (signal?.aborted === true) reject(signal.reason)
      else if (code === 0 || code === 1) resolve(code)
      else reject(new XsError('E_IO', `flock failed (exit ${code}): ${err.trim()}`))
    })
  })

/**
 * An exclusive kernel lock (flock(2)) on `path`. The flock(1) helper takes
 * the lock on our open file description and exits; the lock then lives as
 * long as our file handle, so a killed process never leaves it stuck.
 */
export const acquireLock = async (path: string, opts: LockOptions): Promise<JobLock> => {
  let fh: FileHandle
  try {
    fh = await open(path, 'a', 0o644)
  } catch (er) {
    throw new XsError('E_IO', `cannot open lock file ${path}: ${(er as Error).message}`, { path, cause: er })
  }
  try {
    if ((await runFlock(fh.fd, ['-x', '-n'])) !== 0) {
      if (!opts.wait) throw new XsError('E_LOCKED', `another xs-rsync job holds ${path}`, { path })
      const { signal } = opts
      opts.onWait?.()
      const args = opts.timeoutSeconds === undefined ? ['-x'] : ['-x', '-w', String(opts.timeoutSeconds)]
      signal?.throwIfAborted()
      if ((await runFlock(fh.fd, args, opts.signal)) !== 0) {
        throw new XsError('E_LOCKED', `gave up waiting for ${path} after ${opts.timeoutSeconds} s`, { path })
      }
    }
  } catch (er) {
    await fh.close()
    throw er
  }
  let released = false
  return {
    path,
    release: async () => {
      if (released) return
      released = true
      await fh.close()
    },
  }
}
