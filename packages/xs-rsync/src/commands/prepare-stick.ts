import { resolve } from 'node:path'
import { prepareStick } from '@xs-rsync/agent'
import { XsError } from '@xs-rsync/core'
import type { CommandContext } from '../command-context.js'
import { readKeyFileArg } from '../read-key-file.js'
import { readPassphrase } from '../read-passphrase.js'

const USAGE = 'usage: xs-rsync prepare-stick --out DIR [--sign-key KEYFILE] [--passphrase-file FILE] [--name NAME[,NAME...]] BUILD...'

/**
 * xs-rsync prepare-stick --out DIR [--sign-key KEY] [--name NAME,...] BUILD...
 * (NOC): write DIR/xs-xobuilds/ with the builds, manifests and signatures,
 * then read it back as a school server would.
 */
export default async function run (ctx: CommandContext): Promise<number> {
  const { out, name } = ctx.values
  const keyFile = ctx.values['sign-key']
  if (typeof out !== 'string' || ctx.positionals.length === 0) throw new XsError('E_USAGE', USAGE)
  const names = typeof name === 'string' ? name.split(',').map((n) => n.trim()) : []
  if (names.length > 0 && names.length !== ctx.positionals.length) {
    throw new XsError('E_USAGE', `--name gives ${names.length} name${names.length === 1 ? '' : 's'} for ${ctx.positionals.length} builds: ` +
      'give one per BUILD, in the same order')
  }
  const passphrase = await readPassphrase(ctx.values)
  await prepareStick({
    out: resolve(out),
    builds: ctx.positionals.map((p, i) => ({ tarball: resolve(p), ...(names[i] !== undefined && { name: names[i] }) })),
    ...(typeof keyFile === 'string' && { signKey: await readKeyFileArg(keyFile), signKeyPath: keyFile }),
    ...(passphrase !== undefined && { passphrase }),
    log: ctx.log,
    onProgress: ctx.onProgress,
    signal: ctx.signal,
  })
  return 0
}
