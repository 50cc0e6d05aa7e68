import t from 'tap'
import { join } from 'node:path'
import { syslogLines, createSyslogSink } from '../../src/sinks/syslog.js'
import { startRsyslog } from '../../../../test/lib/rsyslog.js'
import type { Level } from '@xs-rsync/core'

t.test('syslogLines: facility user, one record per line', async (t) => {
  const cases: Array<[Level, string, string]> = [
    ['err', 'disk on fire', '<11>disk on fire\n'],
    ['warning', 'w', '<12>w\n'],
    ['notice', 'n', '<13>n\n'],
    ['info', 'two\nlines', '<14>two\n<14>  lines\n'],
    ['debug', 'crlf\r\n\nand blank', '<15>crlf\\u000d\n<15>  and blank\n'],
    ['notice', 'x\rDONE: forged over the line', '<13>x\\u000dDONE: forged over the line\n'],
    ['notice', 'name\u001b[2K\u009b1A', '<13>name\\u001b[2K\\u009b1A\n'],
    ['notice', 'Ignoring x\nDONE: forged', '<13>Ignoring x\n<13>  DONE: forged\n'],
    ['info', '', ''],
  ]
  for (const [level, msg, want] of cases) t.equal(syslogLines(level, msg), want, JSON.stringify(msg))
})

t.test('a real rsyslogd gets every line with tag and severity', async (t) => {
  const rs = await startRsyslog(t, t.testdir({}))
  const sink = await createSyslogSink({ socket: rs.socket, warn: (m) => t.fail(m) })
  const levels: Level[] = ['err', 'warning', 'notice', 'info', 'debug']
  for (const l of levels) sink.log(l, `level ${l}`)
  sink.log('info', '[3/6] Copying os1\nsecond line')
  await sink.close()
  const lines = await rs.waitFor((l) => l.length >= levels.length + 2)
  t.same(lines, [
    ...levels.map((l) => `user.${l} xs-rsync[${process.pid}]: level ${l}`),
    `user.info xs-rsync[${process.pid}]: [3/6] Copying os1`,
    `user.info xs-rsync[${process.pid}]:   second line`,
  ])
})

t.test('a missing socket is one clear warning, not a crash', async (t) => {
  const warnings: string[] = []
  const sink = await createSyslogSink({ socket: join(t.testdir({}), 'nope.sock'), warn: (m) => warnings.push(m) })
  sink.log('err', 'goes nowhere')
  await sink.close()
  t.match(warnings, [/nope\.sock does not exist; logging to the terminal only/])
})

t.test('syslog going away is one warning, logging carries on', async (t) => {
  const rs = await startRsyslog(t, t.testdir({}))
  const warnings: string[] = []
  const sink = await createSyslogSink({ socket: rs.socket, warn: (m) => warnings.push(m) })
  sink.log('info', 'before')
  await rs.waitFor((l) => l.length === 1)
  await rs.stop()
  for (let i = 0; i < 50; i++) sink.log('info', `after ${i}`)
  await sink.close()
  t.equal(warnings.length, 1)
  t.match(warnings[0], /unavailable/)
})
