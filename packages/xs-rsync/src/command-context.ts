import type { LogFn, OnProgress, XsConfig } from '@xs-rsync/core'

export type OptionValues = Record<string, string | boolean | string[] | undefined>

/** What a command module gets from the CLI. */
export interface CommandContext {
  command: string
  /** Positional arguments after the command name. */
  positionals: string[]
  /** Parsed flags. */
  values: OptionValues
  config: XsConfig
  /** To the terminal (and syslog when enabled). */
  log: LogFn
  /** Formatted and sent to `log` at 'info'. */
  onProgress: OnProgress
  /** Plain stdout output (tables, --json). */
  out: (text: string) => void
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal
}

/** A command module's default export. Returns the exit status. */
export type CommandRun = (ctx: CommandContext) => Promise<number>
