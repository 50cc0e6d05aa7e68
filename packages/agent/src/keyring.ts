import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { readKeys, type Key, type PublicKey } from 'openpgp'
import { silentLog, XsError, type LogFn } from '@xs-rsync/core'

/** A key file bigger than this is not a key file. */
export const MAX_KEY_FILE_BYTES = 1024 * 1024

/** A key found in the keyring folder that does not count, and why. */
export interface DroppedKey {
  file: string
  fingerprint: string
  keyIDs: string[]
  reason: string
}

export interface Keyring {
  dir: string
  /** Usable signing keys (public parts only). */
  keys: PublicKey[]
  /** Keys present but not usable (expired, revoked, no signing key). */
  dropped: DroppedKey[]
}

const ARMOR_BLOCK_RE = /-----BEGIN PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----[\s\S]*?-----END PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----/g

/** Every key in one file: armored (one or many blocks) or binary (one or many keys). */
export const parseKeyFile = async (data: Buffer): Promise<Key[]> => {
  const text = data.toString('latin1')
  if (text.includes('-----BEGIN PGP')) {
    const blocks = text.match(ARMOR_BLOCK_RE) ?? []
    if (blocks.length === 0) throw new Error('no PGP key block in this armored file')
    return (await Promise.all(blocks.map((armoredKeys) => readKeys({ armoredKeys })))).flat()
  }
  return readKeys({ binaryKeys: new Uint8Array(data) })
}

const describe = (key: Key): string => {
  const uid = key.getUserIDs()[0]
  return `${key.getFingerprint().toUpperCase()}${uid === undefined ? '' : ` (${uid})`}`
}

/** Why `key` cannot verify signatures made now (`date`), or undefined when it can. */
export const unusableReason = async (key: Key, date: Date): Promise<string | undefined> => {
  try {
    await key.getSigningKey(undefined, date)
    return undefined
  } catch (er) {
    if (await key.isRevoked(undefined, undefined, date).catch(() => false)) return 'revoked'
    const exp = await key.getExpirationTime().catch(() => null)
    if (exp instanceof Date && exp <= date) return `expired on ${exp.toISOString()}`
    return `no valid signing key (${(er as Error).message})`
  }
}

/**
 * Load the trusted NOC keys from `dir`: every regular, non-hidden file,
 * armored or binary, one or many keys each (private key files contribute
 * their public part). Keys that are expired, revoked or cannot sign at `date`
 * are dropped with a warning. A missing folder is an empty keyring; a file
 * that holds no readable key is E_KEYRING (a typo in a trusted key must not
 * go unnoticed).
 */
export const loadKeyring = async (dir: string, opts: { log?: LogFn, date?: Date } = {}): Promise<Keyring> => {
  const log = opts.log ?? silentLog
  const date = opts.date ?? new Date()
  const ring: Keyring = { dir, keys: [], dropped: [] }
  let names: string[]
  try {
    names = (await readdir(dir)).sort()
  } catch (er) {
    if ((er as NodeJS.ErrnoException).code === 'ENOENT') {
      log('notice', `Keyring folder ${dir} does not exist: no trusted NOC keys`)
      return ring
    }
    throw new XsError('E_KEYRING', `cannot read keyring folder ${dir}: ${(er as Error).message}`, { path: dir, cause: er })
  }
  const seen = new Set<string>()
  for (const name of names) {
    if (name.startsWith('.') || name.endsWith('~')) continue
    const file = join(dir, name)
    let keys: Key[]
    try {
      const st = await stat(file)
      if (!st.isFile()) continue
      if (st.size > MAX_KEY_FILE_BYTES) throw new Error(`larger than ${MAX_KEY_FILE_BYTES} bytes`)
      keys = await parseKeyFile(await readFile(file))
    } catch (er) {
      throw new XsError('E_KEYRING', `${file} is not a readable OpenPGP key file: ${(er as Error).message}`, { path: file, cause: er })
    }
    for (const key of keys) {
      const fpr = key.getFingerprint().toUpperCase()
      if (seen.has(fpr)) continue
      seen.add(fpr)
      const reason = await unusableReason(key, date)
      if (reason === undefined) {
        ring.keys.push(key.isPrivate() ? key.toPublic() : key as PublicKey)
        log('info', `Trusted NOC key ${describe(key)} from ${file}`)
      } else {
        ring.dropped.push({ file, fingerprint: fpr, keyIDs: key.getKeyIDs().map((k) => k.toHex().toUpperCase()), reason })
        log('warning', `Key ${describe(key)} in ${file} does not count: ${reason}`)
      }
    }
  }
  return ring
}
