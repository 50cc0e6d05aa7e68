/** Syslog severities the library uses (names as in syslog(3)). */
export type Level = 'debug' | 'info' | 'notice' | 'warning' | 'err'

/**
 * The library's only way to talk to a person: the CLI injects subscribers
 * (terminal, syslog socket, journald stdout). The library never prints.
 */
export type LogFn = (level: Level, message: string) => void

export const SYSLOG_SEVERITY: Record<Level, number> = {
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
}

/** A LogFn that drops everything; the default when no callback is given. */
export const silentLog: LogFn = () => {}
