import * as openpgp from 'openpgp'
import { XsError } from '@xs-rsync/core'

const isArmored = (key: Uint8Array | string): boolean =>
  typeof key === 'string' || Buffer.from(key.subarray(0, 64)).toString('latin1').trimStart().startsWith('-----BEGIN PGP')

/**
 * Read an OpenPGP secret key (armored or binary, as `gpg --export-secret-keys
 * [--armor]` writes it), unlock it with `passphrase` when it is protected, and
 * check that it can sign at `date` (not expired, not revoked, has a signing
 * (sub)key). Any problem is E_KEYRING saying why; `where` names the key file.
 */
export const readSigningKey = async (
  secretKey: Uint8Array | string,
  opts: { passphrase?: string | undefined, date?: Date, where?: string } = {},
): Promise<openpgp.PrivateKey> => {
  const where = opts.where ?? 'the signing key'
  let key: openpgp.PrivateKey
  try {
    key = isArmored(secretKey)
      ? await openpgp.readPrivateKey({ armoredKey: typeof secretKey === 'string' ? secretKey : Buffer.from(secretKey).toString('utf8') })
      : await openpgp.readPrivateKey({ binaryKey: secretKey as Uint8Array })
  } catch (er) {
    throw new XsError('E_KEYRING', `${where} is not an OpenPGP secret key (export it with "gpg --export-secret-keys"): ${(er as Error).message}`,
      { path: where, cause: er })
  }
  if (!key.isDecrypted()) {
    if (opts.passphrase === undefined) {
      throw new XsError('E_KEYRING', `${where} is protected by a passphrase and none was given (use --passphrase-file or XS_RSYNC_PASSPHRASE)`,
        { path: where })
    }
    try {
      key = await openpgp.decryptKey({ privateKey: key, passphrase: opts.passphrase })
    } catch (er) {
      throw new XsError('E_KEYRING', `cannot unlock ${where}: ${(er as Error).message}`, { path: where, cause: er })
    }
  }
  try {
    await key.getSigningKey(undefined, opts.date ?? new Date())
  } catch (er) {
    throw new XsError('E_KEYRING', `${where} (${key.getFingerprint().toUpperCase()}) cannot sign: ${(er as Error).message}`,
      { path: where, cause: er })
  }
  return key
}

export interface SignDetachedOptions {
  /** The bytes to sign (the manifest). */
  data: Uint8Array
  /** An OpenPGP secret key, armored or binary, or one read with readSigningKey. */
  secretKey: Uint8Array | string | openpgp.PrivateKey
  /** Passphrase when the key is protected (from a file or the environment, never argv). */
  passphrase?: string
  /** ASCII armor (default) or binary, like `gpg --detach-sign [--armor]`. */
  armor?: boolean
  date?: Date
}

/** A detached OpenPGP signature over `data`, as `gpg --detach-sign` makes. */
export const signDetached = async (opts: SignDetachedOptions): Promise<Uint8Array> => {
  const key = opts.secretKey instanceof openpgp.PrivateKey
    ? opts.secretKey
    : await readSigningKey(opts.secretKey, { passphrase: opts.passphrase, ...(opts.date && { date: opts.date }) })
  const message = await openpgp.createMessage({ binary: opts.data })
  const base = { message, signingKeys: key, detached: true as const, ...(opts.date === undefined ? {} : { date: opts.date }) }
  if (opts.armor === false) {
    return await openpgp.sign({ ...base, format: 'binary' })
  }
  return new TextEncoder().encode(await openpgp.sign({ ...base, format: 'armored' }))
}

/** A throwaway signing key pair (demo and tests only). */
export const generateSigningKey = async (name: string, email: string): Promise<{ secretKey: string, publicKey: string }> => {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs: [{ name, email }],
    format: 'armored',
  })
  return { secretKey: privateKey, publicKey }
}
