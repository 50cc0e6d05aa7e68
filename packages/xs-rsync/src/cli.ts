import { basename } from 'node:path'
import { readFileSync } from 'node:fs'
import {
  CONFIG_KEYS, describeError, ERROR_TABLE, escapeControl, formatProgress, loadConfig, setConfigValue, startJob, storeLayout, toXsError, XsError,
  type Audience, type JobRecord, type LogFn, type XsConfig,
} from '@xs-rsync/core'
import { ALIASES, audienceOf, COMMANDS } from './commands.js'
import { renderHelp } from './help.js'
import { OPTIONS } from './options.js'
import { parseCommandLine } from './parse-command-line.js'
import { terminalSink } from './terminal-sink.js'
import type { CommandRun, OptionValues } from './command-context.js'

const version = (): string =>
  (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version

/** Flags that override config keys: every config key is a flag of the same name. */
export const configOverrides = (v: OptionValues): Partial<XsConfig> => {
  const o: Partial<XsConfig> = {}
  for (const key of Object.keys(CONFIG_KEYS)) {
    const value = v[key]
    // a yes/no setting is a flag without a value
    if (typeof value === 'string' || value === true) setConfigValue(o, key, value === true ? 'yes' : value)
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
  let audience: Audience = 'school'
  const closers: (() => Promise<void>)[] = []
  const ac = new AbortController()
  let interrupted = 'it stopped before the end'
  /** The last DONE/FAILED/CHECKED line, and how to end the job's status record. */
  let lastLine = ''
  let endJob: ((end: Omit<JobRecord, 'kind' | 'args' | 'startedAt' | 'finishedAt'>) => Promise<void>) | undefined
  try {
    const { command, positionals, values } = parseCommandLine(args)
    audience = audienceOf(command, positionals)
    if (values.version === true) {
      process.stdout.write(`${version()}\n`)
      return 0
    }
    if (command === 'help') {
      const [topic, ...more] = positionals
      if (more.length > 0) throw new XsError('E_USAGE', 'usage: xs-rsync help [COMMAND]')
      const { command: cmd } = parseCommandLine(topic === undefined ? [] : [topic])
      process.stdout.write(renderHelp(cmd))
      return 0
    }
    if (command === undefined || values.help === true) {
      process.stdout.write(renderHelp(command))
      return command === undefined && values.help !== true ? 2 : 0
    }
    const info = COMMANDS[command]
    if (info === undefined) throw new XsError('E_USAGE', `unknown command "${command}" (see "xs-rsync help")`)
    interrupted = info.interrupted ?? interrupted

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
    log = (level, msg) => {
      if (/^(DONE|FAILED|CHECKED): /.test(msg)) lastLine = msg
      for (const s of sinks) s(level, msg)
    }
    // jobs on the store are kept in status's history (an ingest records its own, with the stick)
    if (info.job === true) {
      // what was asked: the command's own flags (not --root and friends) and its arguments
      const asked = Object.entries(values).filter(([k]) => OPTIONS[k]?.commands.includes('*') === false)
        .flatMap(([k, v]) => v === true ? [`--${k}`] : typeof v === 'string' ? [`--${k}`, v] : [])
      endJob = await startJob(storeLayout(config.root).state, command, [...asked, ...positionals]).catch(() => undefined)
    }

    const onSignal = (sig: NodeJS.Signals): void => {
      if (ac.signal.aborted) {
        log('err', `FAILED: ${describeError(new XsError('E_INTERRUPTED', `received ${sig} again: stopped at once, cleanup skipped`), audience)}`)
        process.exit(ERROR_TABLE.E_INTERRUPTED.exit)
      }
      log(info.stopsBySignal === true ? 'info' : 'warning', `received ${sig}, stopping`)
      ac.abort(new XsError('E_INTERRUPTED', `received ${sig}`))
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    try {
      const mod = (await import(`./commands/${command}.js`)) as { default: CommandRun }
      const status = await mod.default({
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
      await endJob?.({ ok: status === 0, line: lastLine }).catch(() => {})
      return status
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  } catch (caught) {
    let er = toXsError(caught)
    // Whatever a stopped step threw (a killed child, an abort), the outcome is
    // "interrupted", saying what it left; unless the library said so itself
    // (ingest: what was published), or found the stick gone.
    if (ac.signal.aborted && (caught === ac.signal.reason || (er.code !== 'E_INTERRUPTED' && er.code !== 'E_STICK_CHANGED'))) {
      er = new XsError('E_INTERRUPTED', `${interrupted} (${(ac.signal.reason as Error).message})`, { cause: caught })
    }
    log('err', `FAILED: ${describeError(er, audience)}`)
    await endJob?.({ ok: false, code: er.code, line: lastLine }).catch(() => {})
    if (er.code === 'E_INTERNAL' && er.cause instanceof Error && er.cause.stack !== undefined) {
      log('debug', er.cause.stack)
    }
    return er.exitCode
  } finally {
    for (const close of closers) await close().catch(() => {})
  }
}
