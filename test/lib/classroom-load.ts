// A classroom pulling at once from the socket-activated rsync daemon:
// `systemd-socket-activate --accept --inetd` stands in for xs-rsyncd.socket
// and runs, per connection, the ExecStart of xs-rsyncd@.service exactly as
// `xs-rsync setup` installs it, as the unit's unprivileged user with the
// unit's ambient capability (setpriv does what User= and
// AmbientCapabilities= do). N real rsync clients pull one build at once.
import { spawn, type ChildProcess } from 'node:child_process'
import { chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { XsConfig } from '@xs-rsync/core'
import { execStartOf, renderUnit } from '../../packages/xs-rsync/src/setup/render-unit.js'
import { freePort } from './free-port.js'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
export const SERVICE_UNIT = join(REPO, 'systemd', 'xs-rsyncd@.service')

/** The stand-in for the service user (exists on every Debian system). */
export const NOBODY = { uid: 65534, gid: 65534 }

/** Hand the store to the service user as setup does (the folders and the rsync lock file). */
export const handStoreTo = (config: XsConfig, ids = NOBODY): void => {
  chownSync(config.root, ids.uid, ids.gid)
  const lock = join(config.root, 'state', 'rsyncd.lock')
  mkdirSync(join(config.root, 'state'), { recursive: true })
  writeFileSync(lock, '', { flag: 'a' })
  chownSync(lock, ids.uid, ids.gid)
}

/** The unit as setup installs it for this store, and its ExecStart= argv. */
export const installedService = (config: XsConfig): { text: string, argv: string[] } => {
  const text = renderUnit('xs-rsyncd@.service', readFileSync(SERVICE_UNIT, 'utf8'),
    { bin: join(REPO, 'packages', 'xs-rsync', 'bin', 'xs-rsync.js'), root: config.root, rsyncdConf: config.rsyncdConf, backend: config.backend })
  return { text, argv: execStartOf(text) }
}

/** The unit's single value of `key` (User=, AmbientCapabilities=, ...). */
export const unitValue = (text: string, key: string): string | undefined =>
  text.split('\n').filter((l) => l.startsWith(`${key}=`)).at(-1)?.slice(key.length + 1)

export interface ClientResult {
  dest: string
  state: string
  status: number | null
  stderr: string
  ms: number
}

export interface LoadResult {
  clients: ClientResult[]
  /** First client started to last client done. */
  wallMs: number
  /** Sum of the resident memory of every per-connection process, at its highest sample. */
  peakTotalKiB: number
  /** The largest single connection (its whole process tree: fakeroot, faked, rsync). */
  peakConnectionKiB: number
  /** Most connections seen alive in one sample. */
  peakConnections: number
  samples: number
}

/** pid -> ppid and resident KiB of every process now (from /proc). */
const processes = (): Map<number, { ppid: number, rssKiB: number }> => {
  const out = new Map<number, { ppid: number, rssKiB: number }>()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const status = readFileSync(`/proc/${d}/status`, 'utf8')
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? -1)
      const rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0)
      out.set(Number(d), { ppid, rssKiB })
    } catch { /* exited meanwhile */ }
  }
  return out
}

/**
 * Memory of the connections under `top` (the socket activator): each of its
 * children is one connection; a connection's memory is the sum of its tree.
 */
const sample = (top: number): { totalKiB: number, perConnection: number[] } => {
  const procs = processes()
  const connOf = (pid: number): number | undefined => {
    for (let p = pid, hops = 0; hops < 64; hops++) {
      const ppid = procs.get(p)?.ppid
      if (ppid === undefined || ppid <= 1) return undefined
      if (ppid === top) return p
      p = ppid
    }
    return undefined
  }
  const byConn = new Map<number, number>()
  for (const [pid, { rssKiB }] of procs) {
    const c = connOf(pid)
    if (c !== undefined) byConn.set(c, (byConn.get(c) ?? 0) + rssKiB)
  }
  const perConnection = [...byConn.values()]
  return { totalKiB: perConnection.reduce((a, b) => a + b, 0), perConnection }
}

export const waitForListening = (child: ChildProcess, ms: number): Promise<void> =>
  new Promise((resolve, reject) => {
    let err = ''
    const timer = setTimeout(() => reject(new Error(`socket activator not listening after ${ms} ms: ${err}`)), ms)
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString()
      if (err.includes('Listening on')) { clearTimeout(timer); resolve() }
    })
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`socket activator exited ${code}: ${err}`)) })
  })

const pull = (port: number, module: string, dest: string, state: string, timeoutMs: number): Promise<ClientResult> =>
  new Promise((resolve) => {
    mkdirSync(dest, { recursive: true })
    const t0 = Date.now()
    const c = spawn('fakeroot', ['-s', state, '--', 'rsync', '-aH', '--numeric-ids', '--timeout=120',
      `rsync://127.0.0.1:${port}/${module}/`, `${dest}/`], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    c.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const kill = setTimeout(() => { stderr += `\n(killed after ${timeoutMs} ms)`; c.kill('SIGKILL') }, timeoutMs)
    c.on('close', (status) => { clearTimeout(kill); resolve({ dest, state, status, stderr, ms: Date.now() - t0 }) })
    c.on('error', (er) => { stderr += String(er) })
  })

/**
 * The installed unit's ExecStart under `systemd-socket-activate --accept` on
 * a free port of 127.0.0.1, as the unit's user with its capabilities (as
 * systemd runs it for each connection); resolves once it listens. The
 * caller stops the activator.
 */
export const startSocketActivated = async (config: XsConfig): Promise<{ port: number, activator: ChildProcess }> => {
  const { text, argv } = installedService(config)
  const caps = (unitValue(text, 'AmbientCapabilities') ?? '').split(/\s+/).filter((c) => c !== '')
    .map((c) => '+' + c.toLowerCase().replace(/^cap_/, '')).join(',')
  const port = await freePort()
  const activator = spawn('systemd-socket-activate', ['--accept', '--inetd', '-l', `127.0.0.1:${port}`,
    'setpriv', `--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups',
    ...(caps === '' ? [] : [`--inh-caps=${caps}`, `--ambient-caps=${caps}`]), '--', ...argv],
  { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } })
  try {
    await waitForListening(activator, 10_000)
  } catch (er) {
    activator.kill('SIGTERM')
    throw er
  }
  return { port, activator }
}

/**
 * Serve `config`'s store through the installed xs-rsyncd@.service ExecStart
 * under a socket activator on 127.0.0.1, run `clients` pulls of `module` at
 * once into `dir`/client-N, then stop the activator. Bounded: each client
 * is killed after `timeoutMs`.
 */
export const classroomLoad = async (config: XsConfig, module: string, dir: string, clients: number,
  timeoutMs = 300_000): Promise<LoadResult> => {
  const { port, activator } = await startSocketActivated(config)
  let peakTotalKiB = 0
  let peakConnectionKiB = 0
  let peakConnections = 0
  let samples = 0
  let sampler: NodeJS.Timeout | undefined
  try {
    sampler = setInterval(() => {
      const s = sample(activator.pid!)
      samples++
      peakTotalKiB = Math.max(peakTotalKiB, s.totalKiB)
      peakConnectionKiB = Math.max(peakConnectionKiB, ...s.perConnection)
      peakConnections = Math.max(peakConnections, s.perConnection.length)
    }, 100)
    const t0 = Date.now()
    const results = await Promise.all(Array.from({ length: clients }, (_, i) =>
      pull(port, module, join(dir, `client-${i}`), join(dir, `client-${i}.state`), timeoutMs)))
    return { clients: results, wallMs: Date.now() - t0, peakTotalKiB, peakConnectionKiB, peakConnections, samples }
  } finally {
    if (sampler !== undefined) clearInterval(sampler)
    activator.kill('SIGTERM')
  }
}
