import { execFile } from 'node:child_process'
import { chmod, chown, lstat, mkdir, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { atomicWrite, silentLog, XsError, type LogFn, type XsConfig } from '@xs-rsync/core'
import { withStoreLock, writeRsyncdConfInLock } from '@xs-rsync/publisher'
import { lookupUser } from './observe-setup.js'
import { describeStep } from './render-plan.js'
import type { Owner, PlannedStep } from './setup-plan.js'

/** Run a system tool; E_TOOL_MISSING when absent, E_IO naming the command and its stderr when it fails. */
const run = (cmd: string, args: string[]): Promise<void> =>
  new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 120_000 }, (er, _stdout, stderr) => {
      if (er === null) return resolve()
      const line = `${cmd} ${args.join(' ')}`
      reject((er as NodeJS.ErrnoException).code === 'ENOENT'
        ? new XsError('E_TOOL_MISSING', `cannot run ${cmd}: not installed`, { cause: er })
        : new XsError('E_IO', `"${line}" failed: ${stderr.trim() || er.message}`, { cause: er }))
    })
  })

export interface ApplySetupOptions {
  config: XsConfig
  prefix: string
  /** The service user's name. */
  user: string
  log?: LogFn
}

/**
 * Run the 'do' steps of a plan, in order. Files are written atomically, so
 * an interrupted setup leaves each file old or new; running setup again
 * finishes the job.
 */
export const applySetup = async (plan: readonly PlannedStep[], opts: ApplySetupOptions): Promise<void> => {
  const { config, prefix } = opts
  const log = opts.log ?? silentLog
  const onHost = prefix === ''
  let service = onHost ? await lookupUser(opts.user) : undefined
  const own = async (path: string, o: Owner): Promise<void> => {
    if (!onHost) return
    if (o === 'root') return chown(path, 0, 0)
    if (service === undefined) throw new XsError('E_CONFIG', `user ${opts.user} does not exist: cannot hand ${path} to it`, { path })
    return chown(path, service.uid, service.gid)
  }
  for (const { step, status } of plan) {
    if (status !== 'do') continue
    log('info', `setup: ${describeStep(step, prefix)}`)
    switch (step.kind) {
      case 'user':
        await run('useradd', ['--system', '--user-group', '--home-dir', step.home, '--no-create-home', '--shell', '/usr/sbin/nologin',
          '--comment', 'xs-rsync store and rsync daemon', step.name])
        service = await lookupUser(step.name)
        break
      case 'dir': {
        const p = prefix + step.path
        await mkdir(p, { recursive: true, mode: step.mode })
        await chmod(p, step.mode)
        await own(p, step.owner)
        break
      }
      case 'file': {
        const p = prefix + step.path
        await mkdir(dirname(p), { recursive: true, mode: 0o755 })
        const exists = await lstat(p).then(() => true, () => false)
        if (!(step.keep && exists)) await atomicWrite(p, step.text, step.mode)
        await chmod(p, step.mode)
        await own(p, step.owner)
        break
      }
      case 'remove':
        await rm(prefix + step.path, { force: true })
        break
      case 'daemon-reload':
        await run('systemctl', ['daemon-reload'])
        break
      case 'enable':
        await run('systemctl', onHost ? ['enable', ...(step.now ? ['--now'] : []), ...step.units] : [`--root=${prefix}`, 'enable', ...step.units])
        break
      case 'udev-reload':
        await run('udevadm', ['control', '--reload'])
        break
      case 'rsyncd-conf':
        try {
          await withStoreLock(config, { wait: false, log }, () => writeRsyncdConfInLock(config, log))
        } catch (er) {
          if (!(er instanceof XsError && er.code === 'E_LOCKED')) throw er
          log('notice', 'setup: a job is running on the store; it writes the rsync config when it ends')
        }
        break
    }
  }
}
