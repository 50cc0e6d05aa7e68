import { mkdir, open } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  addKeys, generateNocKey, listKeyring, markTrusted, parseLifetime, removeKey, revokeKey, type KeyringEntry, type KeyringListing,
} from '@xs-rsync/agent'
import { XsError } from '@xs-rsync/core'
import type { CommandContext } from '../command-context.js'
import { readPassphrase } from '../read-passphrase.js'

const USAGE = 'usage: xs-rsync keys list [--json] | keys add KEYFILE... | keys remove [--force] FINGERPRINT... | ' +
  'keys revoke REVOCATION-CERTIFICATE... | keys generate "NAME <EMAIL>" --out DIR [--expires 2y] [--passphrase-file FILE]'

const status = (k: KeyringEntry): string =>
  k.secret ? 'SECRET KEY (remove it)' : k.usable ? 'trusted' : `does not count: ${k.reason ?? 'unusable'}`

/** The table `xs-rsync keys list` prints. Pure. */
export const renderKeyTable = (l: KeyringListing): string => {
  const lines: string[] = []
  if (l.keys.length === 0) {
    lines.push(`No keys in ${l.dir}${l.exists ? '' : ' (the folder does not exist)'}. ` +
      'A fresh server with its keyring at the default place accepts unsigned sticks (permissive) until a key is added; ' +
      'anywhere else, or once a key was trusted, every stick is refused.')
  }
  for (const k of l.keys) {
    lines.push(`${k.fingerprint}  ${k.algorithm}`,
      `  user id:  ${k.userIDs.join('; ') || '(none)'}`,
      `  created:  ${k.created}, expires: ${k.expires ?? 'never'}${k.revoked ? ', REVOKED' : ''}`,
      `  status:   ${status(k)}`,
      `  file:     ${k.file}`)
  }
  for (const p of l.problems) lines.push(`PROBLEM ${p.file}: ${p.reason}`)
  for (const i of l.ignored) lines.push(`ignored ${i.file}: ${i.reason}`)
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

/** xs-rsync keys list|add|remove|revoke|generate: the trusted NOC keys of a server, and new NOC keys. */
export default async function run (ctx: CommandContext): Promise<number> {
  const [sub, ...args] = ctx.positionals
  const dir = ctx.config.keyring
  const log = ctx.log
  switch (sub) {
    case 'list': {
      if (args.length > 0) throw new XsError('E_USAGE', USAGE)
      const l = await listKeyring(dir)
      ctx.out(ctx.values.json === true ? JSON.stringify(l, null, 2) : renderKeyTable(l))
      for (const i of l.ignored) log('warning', `Ignoring ${i.file} in the keyring folder: ${i.reason}`)
      if (l.problems.length > 0) {
        throw new XsError('E_KEYRING', `${l.problems.length} key file${l.problems.length === 1 ? '' : 's'} in ${dir} ` +
          `${l.problems.length === 1 ? 'has a problem' : 'have problems'} (ingest refuses every stick until fixed): ` +
          l.problems.map((p) => `${p.file} ${p.reason}`).join('; '), { path: l.problems[0]?.file ?? dir })
      }
      return 0
    }
    case 'add': {
      if (args.length === 0) throw new XsError('E_USAGE', USAGE)
      for (const f of args) {
        const infos = await addKeys(dir, resolve(f), { log })
        await markTrusted(ctx.config, infos.filter((i) => i.usable).map((i) => i.fingerprint), log)
      }
      return 0
    }
    case 'remove':
      if (args.length === 0) throw new XsError('E_USAGE', USAGE)
      for (const id of args) await removeKey(dir, id, { log, force: ctx.values.force === true })
      return 0
    case 'revoke':
      if (args.length === 0) throw new XsError('E_USAGE', USAGE)
      for (const f of args) await revokeKey(dir, resolve(f), { log })
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
