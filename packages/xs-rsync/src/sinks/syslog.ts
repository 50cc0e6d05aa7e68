import { spawn } from 'node:child_process'
import { stat } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { escapeControl, SYSLOG_SEVERITY, type Level, type LogFn } from '@xs-rsync/core'

const FACILITY_USER = 1

export interface SyslogSink {
  log: LogFn
  /** Flush and wait (at most 5 s) for the logger process to exit. */
  close(): Promise<void>
}

export interface SyslogSinkOptions {
  /** The unix datagram socket (/dev/log). */
  socket: string
  tag?: string
  /** Where a problem with syslog itself is reported. Default: stderr. */
  warn?: (message: string) => void
}

/**
 * One `<PRI>message` line per physical line: logger sends each as its own
 * record. Continuation lines are indented and other control characters
 * escaped, so text from a stick that slipped a newline or a carriage return
 * into a message can never pass for a line of its own ("DONE: ...").
 */
export const syslogLines = (level: Level, message: string): string => {
  const pri = FACILITY_USER * 8 + SYSLOG_SEVERITY[level]
  return message.split('\n').filter((l) => l !== '').map((l, i) => `<${pri}>${i === 0 ? '' : '  '}${escapeControl(l)}\n`).join('')
}

/**
 * Syslog (facility user) through one long-lived util-linux `logger` that
 * reads `<PRI>message` lines (Node's dgram has no unix datagram sockets).
 * Records are syslog(3)-style RFC 3164 ("<PRI>Mmm dd hh:mm:ss TAG[PID]: msg")
 * with our PID. A missing socket or logger is one warning, never a crash:
 * the terminal still gets every line.
 */
export const createSyslogSink = async (opts: SyslogSinkOptions): Promise<SyslogSink> => {
  const warn = opts.warn ?? ((m: string) => { process.stderr.write(`xs-rsync: warning: ${m}\n`) })
  const off: SyslogSink = { log: () => {}, close: async () => {} }
  const st = await stat(opts.socket).catch(() => undefined)
  if (st === undefined || !st.isSocket()) {
    warn(`syslog socket ${opts.socket} ${st === undefined ? 'does not exist' : 'is not a socket'}; logging to the terminal only`)
    return off
  }
  const child = spawn('logger', [
    '--prio-prefix', '--socket-errors=on', '--size', '4096', `--id=${process.pid}`,
    '-u', opts.socket, '-t', opts.tag ?? 'xs-rsync',
  ], { stdio: ['pipe', 'ignore', 'pipe'] })
  let alive = true
  let warned = false
  const warnOnce = (why: string): void => {
    if (warned) return
    warned = true
    warn(`syslog (${opts.socket}) unavailable: ${why}`)
  }
  child.stderr.on('data', (d: Buffer) => { warnOnce(d.toString().trim()) })
  const exited = new Promise<void>((resolve) => {
    child.on('error', (er) => { alive = false; warnOnce(`cannot run logger (util-linux): ${er.message}`); resolve() })
    child.on('close', () => { alive = false; resolve() })
  })
  child.stdin.on('error', () => { alive = false })
  return {
    log: (level, message) => {
      if (alive) child.stdin.write(syslogLines(level, message))
    },
    close: async () => {
      child.stdin.end()
      const done = await Promise.race([exited.then(() => true), sleep(5000, false, { ref: false })])
      if (!done) {
        child.kill()
        warnOnce('logger did not finish within 5 s')
      }
    },
  }
}
