import { readFile, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import {
  MANIFEST_NAMES, MAX_MANIFEST_BYTES, parseManifest, readSigningKey, signDetached, verifyDetachedSignature,
} from '@xs-rsync/agent'
import { atomicWrite, XsError } from '@xs-rsync/core'
import type { CommandContext } from '../command-context.js'
import { readKeyFileArg } from '../read-key-file.js'
import { readPassphrase } from '../read-passphrase.js'

const USAGE = 'usage: xs-rsync sign MANIFEST --key KEYFILE [--passphrase-file FILE] [--out SIGFILE]'

/** Write `data` to `file` atomically (no chmod: works on FAT sticks). */
const writeReplacing = async (file: string, data: Uint8Array): Promise<void> => {
  await atomicWrite(file, data, 0o644, { chmod: false }).catch((er: unknown) => {
    throw new XsError('E_IO', `cannot write ${file}: ${(er as Error).message}`, { path: file, cause: er })
  })
}

/**
 * xs-rsync sign MANIFEST --key KEY [--out SIG] (NOC): a detached, armored
 * OpenPGP signature of MANIFEST (default MANIFEST.sig), as `gpg
 * --detach-sign --armor` makes; checked against the key before it is written.
 * A manifest.sha256/manifest.sha1 is parsed first, so junk is never signed.
 */
export default async function run (ctx: CommandContext): Promise<number> {
  const [manifest, ...rest] = ctx.positionals
  const keyFile = ctx.values.key
  if (manifest === undefined || rest.length > 0 || typeof keyFile !== 'string') throw new XsError('E_USAGE', USAGE)
  const st = await stat(manifest).catch((er: unknown) => {
    throw new XsError('E_NOT_FOUND', `cannot read ${manifest}: ${(er as Error).message}`, { path: manifest, cause: er })
  })
  if (!st.isFile() || st.size > MAX_MANIFEST_BYTES) {
    throw new XsError('E_MANIFEST', `${manifest} is ${st.isFile() ? `larger than ${MAX_MANIFEST_BYTES} bytes` : 'not a regular file'}: ` +
      'school servers refuse such a manifest', { path: manifest })
  }
  const data = await readFile(manifest)
  const kind = MANIFEST_NAMES.find((m) => m.name === basename(manifest))
  if (kind !== undefined) parseManifest(data, kind.algo, manifest)
  else ctx.log('warning', `${manifest} is not named manifest.sha256 or manifest.sha1: signing it as it is`)
  const passphrase = await readPassphrase(ctx.values)
  const key = await readSigningKey(await readKeyFileArg(keyFile), { passphrase, where: keyFile })
  const signature = await signDetached({ data, secretKey: key })
  const out = typeof ctx.values.out === 'string' ? ctx.values.out : `${manifest}.sig`
  await verifyDetachedSignature({ data, signature, keys: [key.toPublic()], where: out })
  await writeReplacing(out, signature)
  ctx.log('notice', `DONE: ${out} is the signature of ${manifest} by ${key.getFingerprint().toUpperCase()} (${key.getUserIDs()[0] ?? 'no user id'})`)
  return 0
}
