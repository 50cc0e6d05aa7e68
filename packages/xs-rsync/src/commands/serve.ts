import { XsError } from '@xs-rsync/core'
import { serveRsync } from '@xs-rsync/publisher'
import type { CommandContext } from '../command-context.js'

/**
 * xs-rsync serve [--address A] [--port P]: the rsync daemon in the foreground
 * until SIGINT/SIGTERM. The daemon's own lines go to the terminal and, like
 * every job's, to the configured syslog socket (tag xs-rsyncd), unless --no-syslog.
 */
export default async function run (ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length > 0) throw new XsError('E_USAGE', 'usage: xs-rsync serve [--address 127.0.0.1] [--port 873]')
  const address = typeof ctx.values.address === 'string' ? ctx.values.address : '127.0.0.1'
  const portText = typeof ctx.values.port === 'string' ? ctx.values.port : '873'
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new XsError('E_USAGE', `--port must be 1-65535, not "${portText}"`)
  let sink: { log: (level: 'info', line: string) => void, close: () => Promise<void> } | undefined
  if (ctx.values['no-syslog'] !== true) {
    const { createSyslogSink } = await import('../sinks/syslog.js')
    sink = await createSyslogSink({ socket: ctx.config.syslogSocket, tag: 'xs-rsyncd' })
  }
  try {
    await serveRsync({
      config: ctx.config, address, port, log: ctx.log, signal: ctx.signal,
      daemonLog: (line) => {
        ctx.log('info', `rsync daemon: ${line}`)
        sink?.log('info', line)
      },
    })
  } finally {
    await sink?.close()
  }
  return 0
}
