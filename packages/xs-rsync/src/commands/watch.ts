import { spawn } from 'node:child_process'
import { constants } from 'node:fs'
import { access } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { toXsError, XsError } from '@xs-rsync/core'
import { watch } from '@xs-rsync/agent'
import type { CommandContext, OptionValues } from '../command-context.js'
import { OPTIONS } from '../options.js'

const CLI = fileURLToPath(new URL('../../bin/xs-rsync.js', import.meta.url))

/** The flags of this run that `ingest` takes too, as arguments. Pure. */
export const ingestArgs = (device: string, values: OptionValues): string[] => {
  const args = ['ingest']
  for (const [k, v] of Object.entries(values)) {
    const spec = OPTIONS[k]
    if (spec === undefined || k === 'help' || k === 'version') continue
    if (!spec.commands.includes('*') && !spec.commands.includes('ingest')) continue
    if (v === true) args.push(`--${k}`)
    else if (typeof v === 'string') args.push(`--${k}=${v}`)
  }
  return [...args, '--', device]
}

/** The program that ingests a stick: Node running the xs-rsync CLI. */
export interface IngestProgram {
  node: string
  cli: string
}

const INGEST_PROGRAM: IngestProgram = { node: process.execPath, cli: CLI }

/** errno of a program that is missing or cannot be run: the install is broken. */
const NOT_RUNNABLE = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EACCES', 'EPERM', 'ENOEXEC'])

/**
 * Why the ingest of `device` could not be started, naming the program:
 * E_TOOL_MISSING when it is missing or not executable, else the errno's code.
 */
export const cannotStart = (device: string, program: string, er: NodeJS.ErrnoException): XsError => {
  const errno = er.code ?? ''
  const why = errno === 'ENOENT' || errno === 'ENOTDIR' ? 'does not exist'
    : errno === 'EACCES' || errno === 'EPERM' ? 'is not executable (permission denied)'
      : errno === 'ENOEXEC' || errno === 'ELOOP' ? 'cannot be run'
        : `cannot be run now (${errno === '' ? er.message : errno}: too many processes, or not enough memory)`
  const fix = NOT_RUNNABLE.has(errno) ? '; reinstall xs-rsync and Node.js' : ''
  const msg = `cannot start the ingest of ${device}: ${program} ${why}${fix}`
  return new XsError(NOT_RUNNABLE.has(errno) ? 'E_TOOL_MISSING' : toXsError(er).code, msg, { path: program, cause: er })
}

/**
 * Each stick is ingested by a child `xs-rsync ingest DEVICE` with the same
 * flags: it logs its own numbered steps and final line (terminal, syslog or
 * journal, as this process), and nothing it does can take the watcher down.
 * Resolves when it exits; on stop its process group gets one SIGTERM
 * (SIGKILL after 60 s). The group is its own, so that Ctrl-C reaches it only
 * through us: a second signal would make it exit at once, skipping cleanup.
 * Rejects (see cannotStart) when the child cannot be started: watch logs
 * that as the stick's FAILED line and goes on watching.
 */
export const ingestChild = (ctx: CommandContext, program: IngestProgram = INGEST_PROGRAM) => async (device: string, signal: AbortSignal): Promise<void> => {
  if (signal.aborted) return
  // Node starts without its script and only then fails: check the script first
  try {
    await access(program.cli, constants.R_OK)
  } catch (er) {
    throw cannotStart(device, program.cli, er as NodeJS.ErrnoException)
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn(program.node, [program.cli, ...ingestArgs(device, ctx.values)], {
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    })
    let killer: NodeJS.Timeout | undefined
    let failed = false
    // The whole group: a helper it waits on (flock for the store lock) must stop too.
    const kill = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig)
      } catch {}
    }
    const stop = (): void => {
      kill('SIGTERM')
      killer = setTimeout(() => kill('SIGKILL'), 60_000)
    }
    signal.addEventListener('abort', stop, { once: true })
    child.on('error', (er: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', stop)
      clearTimeout(killer)
      failed = true
      reject(cannotStart(device, program.node, er))
    })
    child.on('close', (code, sig) => {
      if (failed) return
      signal.removeEventListener('abort', stop)
      clearTimeout(killer)
      if (code !== 0) ctx.log('warning', `The ingest of ${device} ended with ${sig === null ? `exit status ${code}` : `signal ${sig}`} (see its FAILED line)`)
      resolve()
    })
  })
}

/** xs-rsync watch: ingest each USB stick that is plugged in, until stopped. */
export default async function run (ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length > 0) throw new XsError('E_USAGE', 'usage: xs-rsync watch (no arguments)')
  await watch({ log: ctx.log, signal: ctx.signal, ingest: ingestChild(ctx) })
  return 0
}
