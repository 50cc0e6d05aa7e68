/**
 * Run a command (async) under /usr/bin/time while sampling a file system's
 * free bytes and inodes every 20 ms: wall and CPU time, peak RSS of the
 * largest process, exit status, stderr, and the least free space seen.
 */
import { spawn } from 'node:child_process'
import { fsUsage, type FsUsage } from './store-image.js'

export interface WatchedRun {
  rc: number
  seconds: number
  userSeconds: number
  systemSeconds: number
  maxRssMiB: number
  stderr: string
  before: FsUsage
  /** The least free bytes and (separately) the least free inodes seen while it ran. */
  least: FsUsage
  after: FsUsage
}

export const runWatchingFs = (cmd: string[], fsPath: string): Promise<WatchedRun> => new Promise((resolve, reject) => {
  const before = fsUsage(fsPath)
  const least = { ...before }
  const sample = (): void => {
    const u = fsUsage(fsPath)
    least.freeBytes = Math.min(least.freeBytes, u.freeBytes)
    least.freeInodes = Math.min(least.freeInodes, u.freeInodes)
  }
  const timer = setInterval(sample, 20)
  const t0 = performance.now()
  const p = spawn('/usr/bin/time', ['-f', '@@time %U %S %M', ...cmd], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  p.stderr.on('data', (d: Buffer) => { err += d.toString() })
  p.on('error', (e) => { clearInterval(timer); reject(e) })
  p.on('close', (code) => {
    const seconds = (performance.now() - t0) / 1000
    clearInterval(timer)
    sample()
    const m = /@@time (\S+) (\S+) (\d+)\s*$/.exec(err)
    const stderr = err.replace(/(Command exited with non-zero status \d+\n)?@@time [^\n]*\n?$/, '')
    resolve({
      rc: code ?? -1, seconds, userSeconds: Number(m?.[1] ?? NaN), systemSeconds: Number(m?.[2] ?? NaN), maxRssMiB: Number(m?.[3] ?? NaN) / 1024,
      stderr, before, least, after: fsUsage(fsPath),
    })
  })
})
