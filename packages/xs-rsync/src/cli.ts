import { parseArgs } from 'node:util'
import { basename } from 'node:path'
import { readFileSync } from 'node:fs'
import {
  describeError, escapeControl, formatProgress, loadConfig, toXsError, XsError,
  type Backend, type LogFn, type SecurityMode, type XsConfig,
} from '@xs-rsync/core'
import { ALIASES, COMMANDS } from './commands.js'
import { OPTIONS } from './options.js'
import { renderHelp } from './help.js'
import { terminalSink } from './terminal-sink.js'
import type { CommandRun, OptionValues } from './command-context.js'

const version = (): string =>
  (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version

/** Flags that override config keys. */
const configOverrides = (v: OptionValues): Partial<XsConfig> => {
  const o: Partial<XsConfig> = {}
  const str = (k: string): string | undefined => (typeof v[k] === 'string' ? v[k] : undefined)
  const root = str('root'); if (root !== undefined) o.root = root
  const conf = str('rsyncd-conf'); if (conf !== undefined) o.rsyncdConf = conf
  const tpl = str('rsyncd-template'); if (tpl !== undefined) o.rsyncdTemplate = tpl
  const keyring = str('keyring'); if (keyring !== undefined) o.keyring = keyring
  const sock = str('syslog-socket'); if (sock !== undefined) o.syslogSocket = sock
  const backend = str('backend')
  if (backend !== undefined) {
    if (backend !== 'fake-super' && backend !== 'fakeroot') throw new XsError('E_USAGE', `--backend must be fake-super or fakeroot, not "${backend}"`)
    o.backend = backend satisfies Backend
  }
  const security = str('security')
  if (security !== undefined) {
    if (security !== 'enforcing' && security !== 'permissive') throw new XsError('E_USAGE', `--security must be enforcing or permissive, not "${security}"`)
    o.security = security satisfies SecurityMode
  }
  return o
}

const underSystemd = (): boolean => process.env.INVOCATION_ID !== undefined || process.env.JOURNAL_STREAM !== undefined

/**
 * Run the CLI; resolves to the exit status. `argv` is process.argv.slice(1)
 * (the program name first, so the old command names work as aliases).
 */
export const main = async (argv: string[]): Promise<number> => {
  const prog = basename(argv[0] ?? 'xs-rsync').replace(/\.js$/, '')
  let args = argv.slice(1)
  const alias = ALIASES[prog]
  if (alias !== undefined) args = [alias, ...args]

  let log: LogFn = terminalSink((s) => process.stderr.write(s))
  const closers: (() => Promise<void>)[] = []
  try {
    let parsed
    try {
      parsed = parseArgs({
        args,
        options: Object.fromEntries(Object.entries(OPTIONS).map(([k, o]) =>
          [k, o.short === undefined ? { type: o.type } : { type: o.type, short: o.short }])),
        allowPositionals: true,
        strict: true,
      })
    } catch (er) {
      throw new XsError('E_USAGE', (er as Error).message)
    }
    const values = parsed.values as OptionValues
    const [command, ...positionals] = parsed.positionals
    if (values.version === true) {
      process.stdout.write(version() + '\n')
      return 0
    }
    if (command === undefined || values.help === true) {
      process.stdout.write(renderHelp(command))
      return command === undefined && values.help !== true ? 2 : 0
    }
    const info = COMMANDS[command]
    if (info === undefined) throw new XsError('E_USAGE', `unknown command "${command}" (see xs-rsync --help)`)
    for (const name of Object.keys(values)) {
      const spec = OPTIONS[name]
      if (spec !== undefined && !spec.commands.includes('*') && !spec.commands.includes(command)) {
        throw new XsError('E_USAGE', `--${name} does not apply to "${command}"`)
      }
    }

    const config = await loadConfig(typeof values.config === 'string' ? values.config : undefined, configOverrides(values))
    const sinks: LogFn[] = []
    const wantSyslog = info.syslog === true && values['no-syslog'] !== true
    if (wantSyslog && underSystemd()) {
      // stdout goes to the journal; SyslogLevelPrefix reads the <N> we put first
      const { journalLine } = await import('./sinks/journal.js')
      sinks.push((level, msg) => { process.stdout.write(journalLine(level, msg)) })
    } else {
      sinks.push(terminalSink((s) => process.stderr.write(s), { quiet: values.quiet === true }))
      if (wantSyslog) {
        const { createSyslogSink } = await import('./sinks/syslog.js')
        const sink = await createSyslogSink({ socket: config.syslogSocket, tag: 'xs-rsync' })
        sinks.push(sink.log)
        closers.push(sink.close)
      }
    }
    log = (level, msg) => { for (const s of sinks) s(level, msg) }

    const ac = new AbortController()
    const onSignal = (sig: NodeJS.Signals): void => {
      if (ac.signal.aborted) process.exit(130)
      log('warning', `received ${sig}, stopping`)
      ac.abort(new XsError('E_INTERNAL', `interrupted by ${sig}`))
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    try {
      const mod = (await import(`./commands/${command}.js`)) as { default: CommandRun }
      return await mod.default({
        command,
        positionals,
        values,
        config,
        log,
        onProgress: (ev) => log('info', formatProgress(ev)),
        // status, list and keys list show text that came from sticks and key files: no control characters
        out: (text) => { const t = escapeControl(text); process.stdout.write(t.endsWith('\n') ? t : t + '\n') },
        signal: ac.signal,
      })
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  } catch (caught) {
    const er = toXsError(caught)
    log('err', `FAILED: ${describeError(er)}`)
    if (er.code === 'E_INTERNAL' && er.cause instanceof Error && er.cause.stack !== undefined) {
      log('debug', er.cause.stack)
    }
    return er.exitCode
  } finally {
    for (const close of closers) await close().catch(() => {})
  }
}
