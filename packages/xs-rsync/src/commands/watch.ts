import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { XsError } from '@xs-rsync/core'
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

/**
 * Each stick is ingested by a child `xs-rsync ingest DEVICE` with the same
 * flags: it logs its own numbered steps and final line (terminal, syslog or
 * journal, as this process), and nothing it does can take the watcher down.
 * Resolves when it exits; on stop its process group gets one SIGTERM
 * (SIGKILL after 60 s). The group is its own, so that Ctrl-C reaches it only
 * through us: a second signal would make it exit at once, skipping cleanup.
 */
export const ingestChild = (ctx: CommandContext) => (device: string, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) {
      resolve()
      return
    }
    const child = spawn(process.execPath, [CLI, ...ingestArgs(device, ctx.values)], {
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    })
    let killer: NodeJS.Timeout | undefined
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
    child.on('error', (er) => reject(new XsError('E_INTERNAL', `cannot start xs-rsync ingest: ${er.message}`, { cause: er })))
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', stop)
      clearTimeout(killer)
      if (code !== 0) ctx.log('warning', `The ingest of ${device} ended with ${sig === null ? `exit status ${code}` : `signal ${sig}`} (see its FAILED line)`)
      resolve()
    })
  })

/** xs-rsync watch: ingest each USB stick that is plugged in, until stopped. */
export default async function run (ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length > 0) throw new XsError('E_USAGE', 'usage: xs-rsync watch (no arguments)')
  await watch({ log: ctx.log, signal: ctx.signal, ingest: ingestChild(ctx) })
  return 0
}
