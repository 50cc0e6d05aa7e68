import { escapeControl, type Level, type LogFn } from '@xs-rsync/core'

const PREFIX: Record<Level, string> = { err: 'error: ', warning: 'warning: ', notice: '', info: '', debug: 'debug: ' }

/**
 * Log lines to a terminal stream (stderr, so stdout stays clean for --json).
 * Continuation lines are indented like the syslog and journal sinks do, and
 * every other control character (a carriage return, an escape sequence) is
 * shown escaped, so text from a stick cannot pass for a line of its own such
 * as "xs-rsync: DONE: ...", nor move the cursor to erase one.
 */
export const terminalSink = (write: (s: string) => void, opts: { quiet?: boolean, debug?: boolean } = {}): LogFn =>
  (level, message) => {
    if (level === 'debug' && opts.debug !== true) return
    if (opts.quiet === true && (level === 'info' || level === 'notice')) return
    const [first, ...rest] = message.split('\n').map(escapeControl)
    write(`xs-rsync: ${PREFIX[level]}${first ?? ''}\n${rest.map((l) => `    ${l}\n`).join('')}`)
  }
