import { XsError } from '@xs-rsync/core'
import { serveRsync } from '@xs-rsync/publisher'
import type { CommandContext } from '../command-context.js'

/** xs-rsync serve [--address A] [--port P]: the rsync daemon in the foreground until SIGINT/SIGTERM. */
export default async function run (ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length > 0) throw new XsError('E_USAGE', 'usage: xs-rsync serve [--address 127.0.0.1] [--port 873]')
  const address = typeof ctx.values.address === 'string' ? ctx.values.address : '127.0.0.1'
  const portText = typeof ctx.values.port === 'string' ? ctx.values.port : '873'
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new XsError('E_USAGE', `--port must be 1-65535, not "${portText}"`)
  await serveRsync({ config: ctx.config, address, port, log: ctx.log, signal: ctx.signal })
  return 0
}
