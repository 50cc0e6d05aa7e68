import type { Level, LogFn } from '@xs-rsync/core'

const PREFIX: Record<Level, string> = { err: 'error: ', warning: 'warning: ', notice: '', info: '', debug: 'debug: ' }

/**
 * Log lines to a terminal stream (stderr, so stdout stays clean for --json).
 * Continuation lines are indented like the syslog and journal sinks do, so
 * text from a stick (a file name with a newline) cannot pass for a line of
 * its own such as "xs-rsync: DONE: ...".
 */
export const terminalSink = (write: (s: string) => void, opts: { quiet?: boolean, debug?: boolean } = {}): LogFn =>
  (level, message) => {
    if (level === 'debug' && opts.debug !== true) return
    if (opts.quiet === true && (level === 'info' || level === 'notice')) return
    const [first, ...rest] = message.split(/\r?\n/)
    write(`xs-rsync: ${PREFIX[level]}${first ?? ''}\n${rest.map((l) => `    ${l}\n`).join('')}`)
  }
