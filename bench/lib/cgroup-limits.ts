/**
 * Limits for a benchmark's commands through cgroup v1 (root): a read rate
 * on one block device (blkio.throttle.read_bps_device: a stick at USB-2
 * speed) and a CPU quota (cpu.cfs_quota_us: a one-CPU server). A command
 * joins the groups through a tiny `sh` that writes its own PID into each
 * group's cgroup.procs and then execs the command, so the command and all
 * its children are limited, and nothing else is.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'

export interface CgroupLimit {
  /** cgroup.procs of the group. */
  procs: string
  /** What it limits, for people. */
  what: string
  remove: () => void
}

const V1 = '/sys/fs/cgroup'

const makeGroup = (controller: string, name: string, settings: Array<[string, string]>, what: string): CgroupLimit => {
  const dir = join(V1, controller, name)
  if (!existsSync(join(V1, controller))) throw new Error(`cgroup v1 controller ${controller} is not mounted at ${join(V1, controller)}`)
  mkdirSync(dir, { recursive: true })
  for (const [file, value] of settings) writeFileSync(join(dir, file), `${value}\n`)
  return {
    procs: join(dir, 'cgroup.procs'),
    what,
    remove: () => {
      try { rmdirSync(dir) } catch { /* still in use or gone */ }
    },
  }
}

/** Reads from `device` (e.g. /dev/loop3) limited to `bytesPerSecond`. */
export const readRateLimit = (device: string, bytesPerSecond: number, name = 'xs-bench-stick'): CgroupLimit => {
  const majMin = readFileSync(`/sys/block/${basename(device)}/dev`, 'utf8').trim()
  return makeGroup('blkio', name, [['blkio.throttle.read_bps_device', `${majMin} ${bytesPerSecond}`]],
    `reads from ${device} at ${(bytesPerSecond / 1024 / 1024).toFixed(0)} MiB/s`)
}

/** At most `cpus` CPUs' worth of time (quota over a 100 ms period). */
export const cpuQuota = (cpus: number, name = 'xs-bench-cpu'): CgroupLimit =>
  makeGroup('cpu', name, [['cpu.cfs_period_us', '100000'], ['cpu.cfs_quota_us', String(Math.round(cpus * 100000))]], `${cpus} CPU`)

/** `cmd` run inside every group of `limits`. */
export const limited = (limits: readonly CgroupLimit[], cmd: readonly string[]): string[] =>
  limits.length === 0
    ? [...cmd]
    : ['sh', '-c', `${limits.map((l) => `echo $$ > ${l.procs}`).join(' && ')} && exec "$@"`, 'sh', ...cmd]
