/**
 * One traced ingest at USB-2 speed (root): the bench's stick (real-files
 * corpus, reads throttled to 30 MiB/s, page cache dropped), the CLI's log
 * with the time since start on every line, and once a second what the
 * ingest's processes did (CPU seconds, user+system, of node and each child,
 * from /proc). Shows where the time goes between the copy and the unpack.
 *
 *   node --import tsx bench/trace-ingest.ts [--one-cpu] [--cpu-prof]   (--cpu-prof: Node's profile into bench/out/profiles)
 */
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cpuQuota, limited } from './lib/cgroup-limits.js'
import { makeRealFilesStick } from './lib/real-files-stick.js'
import { dropCaches } from './lib/stick-image.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const out = join(here, 'out')
const bin = join(here, '..', 'packages', 'xs-rsync', 'bin', 'xs-rsync.js')
const TICK = 100 // clock ticks per second (getconf CLK_TCK on Linux)

/** CPU seconds of `pid` and each of its descendants, by command name. */
const cpuOfTree = (pid: number): Map<string, number> => {
  const parent = new Map<number, number>()
  const stat = new Map<number, { name: string, cpu: number }>()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8')
      const name = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'))
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
      parent.set(Number(d), Number(f[1]))
      stat.set(Number(d), { name, cpu: (Number(f[11]) + Number(f[12])) / TICK })
    } catch { /* gone */ }
  }
  const out = new Map<string, number>()
  const visit = (p: number): void => {
    const s = stat.get(p)
    if (s !== undefined) out.set(s.name, (out.get(s.name) ?? 0) + s.cpu)
    for (const [c, pp] of parent) if (pp === p) visit(c)
  }
  visit(pid)
  return out
}

const main = async (): Promise<void> => {
  const work = join(out, 'trace-run')
  const stick = await makeRealFilesStick(join(out, 'real'), work, undefined, 'xs-bench-trace-stick')
  const oneCpu = process.argv.includes('--one-cpu') ? cpuQuota(1, 'xs-bench-trace-cpu') : undefined
  try {
    await mkdir(join(work, 'run'))
    dropCaches()
    const cmd = limited([stick.usb2, ...(oneCpu === undefined ? [] : [oneCpu])], [process.execPath, ...(process.argv.includes('--cpu-prof') ? ['--cpu-prof', '--cpu-prof-dir', join(out, 'profiles')] : []), bin, 'ingest', '--no-syslog',
      '--root', join(work, 'run', 'store'), '--rsyncd-conf', join(work, 'run', 'xs-rsyncd.conf'), '--rsyncd-template', join(work, 'run', 'none'),
      '--keyring', stick.keys, stick.image.mountpoint])
    const t0 = performance.now()
    const at = (): string => ((performance.now() - t0) / 1000).toFixed(2).padStart(6)
    const child = spawn(cmd[0] as string, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XS_RSYNC_DEBUG: '1' } })
    for (const s of [child.stdout, child.stderr]) {
      let rest = ''
      s.on('data', (d: Buffer) => {
        const lines = (rest + d.toString()).split(/\r|\n/)
        rest = lines.pop() ?? ''
        for (const l of lines) if (l.trim() !== '') process.stdout.write(`${at()} ${l}\n`)
      })
    }
    const timer = setInterval(() => {
      const cpu = [...cpuOfTree(child.pid ?? 0)].filter(([, s]) => s > 0).map(([n, s]) => `${n} ${s.toFixed(2)}`).join(', ')
      process.stdout.write(`${at()}   cpu s: ${cpu}\n`)
    }, 1000)
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    clearInterval(timer)
    process.stdout.write(`${at()} exit ${code}\n`)
  } finally {
    oneCpu?.remove()
    await stick.dispose()
    await rm(work, { recursive: true, force: true })
  }
}

await main()
