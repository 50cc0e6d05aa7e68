import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { constants, openSync, readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs'
import { access, chown, lstat, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { createServer, Socket } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { silentLog, toXsError, XsError, type LogFn, type XsConfig } from '@xs-rsync/core'
import { fakerootKey, parseFakerootState } from './fakeroot-state.js'
import { daemonCommand } from './daemon-command.js'
import { listBuilds } from './list-builds.js'
import { publishLayout } from './publish-layout.js'

export interface ServeOptions {
  config: XsConfig
  address?: string
  port?: number
  log?: LogFn
  /** Stops the daemon; serve then resolves. */
  signal?: AbortSignal
  /** Called each time a daemon has been started (tests, status). */
  onStart?: (pid: number) => void
  /**
   * The daemon's own log lines (connections, modules, errors), without
   * rsync's date prefix. When given, the daemon writes its log into a FIFO
   * that serve reads, instead of syslog(3), which only knows /dev/log: the
   * CLI sends them to the configured syslog socket (tag xs-rsyncd).
   */
  daemonLog?: (line: string) => void
}

/** rsync's `log file` line without its "YYYY/MM/DD hh:mm:ss " prefix. Pure. */
export const daemonLogLine = (line: string): string => line.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, '')

const CAP_SYS_CHROOT = 18

/** Can a daemon we start chroot (root, or CAP_SYS_CHROOT in our ambient set, which it inherits)? */
export const canChroot = (): boolean => {
  if (process.geteuid?.() === 0) return true
  try {
    const amb = /^CapAmb:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]
    return amb !== undefined && (BigInt(`0x${amb}`) & (1n << BigInt(CAP_SYS_CHROOT))) !== 0n
  } catch {
    return false
  }
}

/**
 * A FIFO in a fresh private temp folder (not the store: nothing of it is
 * served or kept) for the daemon's `log file`, read here line by line.
 * Opened read-write and non-blocking, so a daemon restart (its writer
 * closing) is no end of file. The daemon may run as `owner`.
 */
const openDaemonLog = async (owner: { uid: number, gid: number } | undefined, onLine: (l: string) => void):
  Promise<{ path: string, close: () => Promise<void> }> => {
  const dir = await mkdtemp(join(tmpdir(), 'xs-rsync-serve-'))
  const path = join(dir, 'rsyncd.log')
  const mk = spawnSync('mkfifo', ['-m', '0600', path], { encoding: 'utf8' })
  if (mk.status !== 0) {
    await rm(dir, { recursive: true, force: true })
    throw new XsError('E_TOOL_MISSING', `cannot make the daemon's log FIFO ${path}: ${mk.error?.message ?? mk.stderr.trim()}`, { path })
  }
  if (owner !== undefined) {
    await chown(dir, owner.uid, owner.gid)
    await chown(path, owner.uid, owner.gid)
  }
  const sock = new Socket({ fd: openSync(path, constants.O_RDWR | constants.O_NONBLOCK), readable: true, writable: false })
  createInterface({ input: sock }).on('line', (l) => { if (l !== '') onLine(daemonLogLine(l)) })
  return {
    path,
    close: async () => {
      sock.destroy()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Before `fakeroot -i`: every line well-formed, and the version trees of the
 * published builds (dir and root/) present in it, so a moved or stale state
 * is refused instead of serving everything as root:root 0600.
 */
export const checkFakerootState = async (config: XsConfig): Promise<void> => {
  const layout = publishLayout(config.root)
  let text: string
  try {
    text = await readFile(layout.fakerootState, 'utf8')
  } catch (er) {
    throw new XsError('E_OWNERSHIP', `cannot read the fakeroot state ${layout.fakerootState}: ${(er as Error).message} (run "xs-rsync refresh")`,
      { path: layout.fakerootState, cause: er })
  }
  const keys = parseFakerootState(text, layout.fakerootState)
  for (const b of await listBuilds(config)) {
    for (const p of [join(layout.trees, b.tree), join(layout.trees, b.tree, 'root')]) {
      const st = await lstat(p, { bigint: true })
      if (!keys.has(fakerootKey(st.dev, st.ino))) {
        throw new XsError('E_OWNERSHIP', `the fakeroot state ${layout.fakerootState} does not describe ${p} (store moved or restored from backup?); run "xs-rsync refresh --force"`,
          { path: layout.fakerootState, entry: p })
      }
    }
  }
}

const checkPort = (address: string, port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', (er: NodeJS.ErrnoException) => {
      reject(er.code === 'EADDRINUSE'
        ? new XsError('E_PORT_IN_USE', `cannot listen on ${address}:${port}: another program listens on that port`, { cause: er })
        : er.code === 'EACCES'
          ? new XsError('E_PERMISSION', `cannot listen on ${address}:${port}: ports below 1024 need root (or CAP_NET_BIND_SERVICE)`, { cause: er })
          : new XsError('E_RSYNC', `cannot listen on ${address}:${port}: ${er.message}`, { cause: er }))
    })
    s.listen(port, address, () => s.close(() => resolve()))
  })

/**
 * Run the rsync daemon in the foreground on the generated config until
 * `signal` aborts (resolves) or the daemon dies (E_RSYNC). The daemon logs to
 * syslog (facility user, tag xs-rsyncd) as its config says; its stderr is
 * forwarded to `log`. With the fakeroot backend it runs under
 * `fakeroot -i ROOT/state/fakeroot.state`, which is loaded once: when refresh
 * rewrites the state, the daemon is restarted so new builds get their owners
 * (transfers running at that moment are cut; clients retry).
 */
export const serveRsync = async (opts: ServeOptions): Promise<void> => {
  const { config, address = '127.0.0.1', port = 873, signal } = opts
  const log = opts.log ?? silentLog
  const layout = publishLayout(config.root)
  try {
    await access(config.rsyncdConf)
  } catch {
    throw new XsError('E_RSYNC', `no rsync config at ${config.rsyncdConf}: run "xs-rsync refresh" first`, { path: config.rsyncdConf })
  }
  await checkPort(address, port)
  const rsyncArgs = ['--daemon', '--no-detach', `--config=${config.rsyncdConf}`, `--address=${address}`, `--port=${port}`]
  const fakeroot = config.backend === 'fakeroot'
  const owner = await lstat(config.root)
  const asOwner = process.geteuid?.() === 0 && owner.uid !== 0 ? { uid: owner.uid, gid: owner.gid } : undefined
  const noChroot = !canChroot()
  if (noChroot) {
    log('warning', 'Not root and no CAP_SYS_CHROOT: the rsync daemon runs without chroot, so "rsync --files-from" pulls fail ("file has vanished"); laptops pulling whole trees are not affected')
  }
  const daemonLog = opts.daemonLog === undefined ? undefined : await openDaemonLog(asOwner, opts.daemonLog)

  const start = async (): Promise<ChildProcess> => {
    if (fakeroot) await checkFakerootState(config)
    const [cmd = 'rsync', ...args] = daemonCommand({
      backend: config.backend, fakerootState: layout.fakerootState, rsyncArgs, noChroot,
      ...(asOwner && { asOwner }), ...(daemonLog && { logFile: daemonLog.path }),
    })
    // own process group: fakeroot's faked and the daemon's children are stopped together
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'inherit', 'pipe'] })
    createInterface({ input: child.stderr! }).on('line', (l) => log('err', `rsync daemon: ${l}`))
    if (child.pid !== undefined) {
      log('notice', `rsync daemon listening on ${address}:${port} (config ${config.rsyncdConf}${fakeroot ? ', under fakeroot' : ''}${asOwner ? `, as uid ${asOwner.uid}, the store's owner` : ''})`)
      opts.onStart?.(child.pid)
    }
    return child
  }
  const stop = (child: ChildProcess): void => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      // fakeroot's script stops its faked daemon (which left our process group) on EXIT and
      // INT only: a SIGTERM would orphan faked; rsync treats SIGINT like SIGTERM
      try { process.kill(-child.pid, fakeroot ? 'SIGINT' : 'SIGTERM') } catch { /* already gone */ }
    }
  }

  try {
    await runDaemon()
  } finally {
    await daemonLog?.close()
  }

  async function runDaemon (): Promise<void> {
    return await new Promise<void>((resolve, reject) => {
      let child: ChildProcess | undefined
      let restarting = false
      let stopping = false
      let done = false
      const finish = (er?: XsError): void => {
        if (done) return
        done = true
        if (fakeroot) unwatchFile(layout.fakerootState, onState)
        signal?.removeEventListener('abort', onAbort)
        if (child) stop(child)
        er === undefined ? resolve() : reject(er)
      }
      const run = async (): Promise<void> => {
        const c = await start()
        child = c
        if (stopping || done) stop(c) // stopped while it was starting
        c.on('error', (er) => finish(new XsError(fakeroot ? 'E_TOOL_MISSING' : 'E_RSYNC', `cannot run ${fakeroot ? 'fakeroot' : 'rsync'}: ${er.message}`, { cause: er })))
        c.on('close', (code, sig) => {
          if (stopping) return finish()
          if (restarting) {
            restarting = false
            run().catch((er: unknown) => finish(toXsError(er)))
            return
          }
          finish(new XsError('E_RSYNC', `rsync daemon stopped (${sig ?? `exit ${code}`}); see syslog (tag xs-rsyncd)`))
        })
      }
      const onAbort = (): void => {
        log('notice', 'Stopping the rsync daemon')
        stopping = true
        if (child && child.exitCode === null && child.signalCode === null) stop(child)
        else if (!restarting) finish()
      }
      const onState = (cur: Stats, prev: Stats): void => {
        if (stopping || restarting || !child || (cur.mtimeMs === prev.mtimeMs && cur.ino === prev.ino)) return
        log('notice', 'Ownership data changed (builds were published); restarting the rsync daemon')
        log('debug', `${layout.fakerootState}: mtime ${prev.mtimeMs} -> ${cur.mtimeMs}, inode ${prev.ino} -> ${cur.ino}`)
        restarting = true
        stop(child)
      }
      if (signal?.aborted === true) { resolve(); return }
      signal?.addEventListener('abort', onAbort, { once: true })
      if (fakeroot) watchFile(layout.fakerootState, { interval: 1000 }, onState)
      run().catch((er: unknown) => finish(toXsError(er)))
    })
  }
}
