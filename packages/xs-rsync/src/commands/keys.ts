import { mkdir, open } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  addKeys, generateNocKey, listKeyring, parseLifetime, removeKey, type KeyringEntry, type KeyringListing,
} from '@xs-rsync/agent'
import { XsError } from '@xs-rsync/core'
import type { CommandContext } from '../command-context.js'
import { readPassphrase } from '../read-passphrase.js'

const USAGE = 'usage: xs-rsync keys list [--json] | keys add KEYFILE... | keys remove FINGERPRINT... | ' +
  'keys generate "NAME <EMAIL>" --out DIR [--expires 2y] [--passphrase-file FILE]'

const status = (k: KeyringEntry): string =>
  k.secret ? 'SECRET KEY (remove it)' : k.usable ? 'trusted' : `does not count: ${k.reason ?? 'unusable'}`

/** The table `xs-rsync keys list` prints. Pure. */
export const renderKeyTable = (l: KeyringListing): string => {
  const lines: string[] = []
  if (l.keys.length === 0) lines.push(`No keys in ${l.dir}: every server in this state accepts only unsigned sticks (permissive).`)
  for (const k of l.keys) {
    lines.push(`${k.fingerprint}  ${k.algorithm}`,
      `  user id:  ${k.userIDs.join('; ') || '(none)'}`,
      `  created:  ${k.created}, expires: ${k.expires ?? 'never'}${k.revoked ? ', REVOKED' : ''}`,
      `  status:   ${status(k)}`,
      `  file:     ${k.file}`)
  }
  for (const p of l.problems) lines.push(`PROBLEM ${p.file}: ${p.reason}`)
  return lines.join('\n')
}

/** Write a new file (never over an existing one) with `mode`. */
const writeNew = async (file: string, data: string, mode: number): Promise<void> => {
  const fh = await open(file, 'wx', mode).catch((er: unknown) => {
    throw new XsError('E_IO', `cannot create ${file}: ${(er as Error).message}`, { path: file, cause: er })
  })
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** xs-rsync keys list|add|remove|generate: the trusted NOC keys of a server, and new NOC keys. */
export default async function run (ctx: CommandContext): Promise<number> {
  const [sub, ...args] = ctx.positionals
  const dir = ctx.config.keyring
  const log = ctx.log
  switch (sub) {
    case 'list': {
      if (args.length > 0) throw new XsError('E_USAGE', USAGE)
      const l = await listKeyring(dir)
      ctx.out(ctx.values.json === true ? JSON.stringify(l, null, 2) : renderKeyTable(l))
      for (const p of l.problems) log('warning', `${p.file} holds no readable key: ingest refuses to run until it is fixed or removed`)
      return 0
    }
    case 'add':
      if (args.length === 0) throw new XsError('E_USAGE', USAGE)
      for (const f of args) await addKeys(dir, resolve(f), { log })
      return 0
    case 'remove':
      if (args.length === 0) throw new XsError('E_USAGE', USAGE)
      for (const id of args) await removeKey(dir, id, { log })
      return 0
    case 'generate': {
      const [userID, ...rest] = args
      const out = ctx.values.out
      if (userID === undefined || rest.length > 0 || typeof out !== 'string') throw new XsError('E_USAGE', USAGE)
      const lifetime = parseLifetime(typeof ctx.values.expires === 'string' ? ctx.values.expires : '2y')
      const passphrase = await readPassphrase(ctx.values)
      if (passphrase === undefined || passphrase === '') {
        log('warning', 'No passphrase given (--passphrase-file or XS_RSYNC_PASSPHRASE): the secret key file is NOT protected')
      }
      const key = await generateNocKey({ userID, passphrase, lifetimeSeconds: lifetime })
      await mkdir(out, { recursive: true, mode: 0o700 })
      const files = {
        secret: join(out, `${key.fingerprint}.secret.asc`),
        public: join(out, `${key.fingerprint}.asc`),
        revoke: join(out, `${key.fingerprint}.revoke.asc`),
      }
      await writeNew(files.secret, key.secretKey, 0o600)
      await writeNew(files.public, key.publicKey, 0o644)
      await writeNew(files.revoke, key.revocationCertificate, 0o600)
      log('notice', `DONE: new NOC key ${key.fingerprint}: secret key ${files.secret} (keep it at the NOC), ` +
        `public key ${files.public} (install it on the servers with "xs-rsync keys add"), ` +
        `revocation certificate ${files.revoke} (keep it offline)`)
      return 0
    }
    default:
      throw new XsError('E_USAGE', USAGE)
  }
}
