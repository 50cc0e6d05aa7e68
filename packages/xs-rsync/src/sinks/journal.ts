import { escapeControl, SYSLOG_SEVERITY, type Level } from '@xs-rsync/core'

/**
 * A log line for stdout under systemd: journald reads the `<N>` severity
 * prefix (SyslogLevelPrefix=yes); the unit sets facility and identifier.
 * Every physical line gets the prefix, so a multi-line message keeps its level;
 * continuation lines are indented and other control characters escaped, so no
 * text inside a message can pass for a line of its own ("DONE: ...").
 */
export const journalLine = (level: Level, message: string): string =>
  message.split('\n').map((l, i) => `<${SYSLOG_SEVERITY[level]}>${i === 0 ? '' : '  '}${escapeControl(l)}\n`).join('')
