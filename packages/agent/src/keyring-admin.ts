import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { AlgorithmInfo, Key } from 'openpgp'
import { atomicWrite, silentLog, XsError, type LogFn } from '@xs-rsync/core'
import { MAX_KEY_FILE_BYTES, parseKeyFile, unusableReason } from './keyring.js'

/** What a person needs to know about one key. */
export interface KeyInfo {
  /** Upper-case hex. */
  fingerprint: string
  userIDs: string[]
  /** e.g. "RSA 3072", "Ed25519". */
  algorithm: string
  created: string
  /** ISO time, or null when the key never expires. */
  expires: string | null
  revoked: boolean
  /** A secret key (never belongs in a server keyring). */
  secret: boolean
  /** Counts for verifying sticks now. */
  usable: boolean
  /** Why it does not count, when it does not. */
  reason?: string
}

export interface KeyringEntry extends KeyInfo {
  file: string
}

export interface KeyringListing {
  dir: string
  keys: KeyringEntry[]
  /** Files in the folder that hold no readable key (ingest refuses to run with them). */
  problems: { file: string, reason: string }[]
}

const ALGO_NAMES: Record<string, string> = {
  rsaEncryptSign: 'RSA', rsaSign: 'RSA', rsaEncrypt: 'RSA', dsa: 'DSA', elgamal: 'ElGamal',
  eddsaLegacy: 'EdDSA', ed25519: 'Ed25519', ed448: 'Ed448', ecdsa: 'ECDSA', ecdh: 'ECDH', x25519: 'X25519', x448: 'X448',
}

/** "RSA 3072", "Ed25519", "ECDSA nistP256". Pure. */
export const algorithmName = (info: AlgorithmInfo): string => {
  const name = ALGO_NAMES[info.algorithm] ?? info.algorithm
  if (info.algorithm === 'eddsaLegacy' && /^ed25519/i.test(info.curve ?? '')) return 'Ed25519'
  if (info.bits !== undefined) return `${name} ${info.bits}`
  if (info.curve !== undefined && name !== 'Ed25519' && name !== 'Ed448') return `${name} ${info.curve}`
  return name
}

/** The name a key gets in the keyring folder. Pure. */
export const keyFileName = (fingerprint: string): string => `${fingerprint.toUpperCase()}.asc`

/** Fingerprint, user ids, algorithm, expiry, revocation and whether it counts at `date`. */
export const describeKey = async (key: Key, date = new Date()): Promise<KeyInfo> => {
  const exp = await key.getExpirationTime().catch(() => null)
  const reason = await unusableReason(key, date)
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    userIDs: key.getUserIDs(),
    algorithm: algorithmName(key.getAlgorithmInfo()),
    created: key.getCreationTime().toISOString(),
    expires: exp instanceof Date ? exp.toISOString() : null,
    revoked: await key.isRevoked(undefined, undefined, date).catch(() => false),
    secret: key.isPrivate(),
    usable: reason === undefined,
    ...(reason !== undefined && { reason }),
  }
}

/** Every key in one file, read within the size limit; E_KEYRING naming the file when there is none. */
const readKeyFile = async (file: string): Promise<Key[]> => {
  try {
    const st = await stat(file)
    if (!st.isFile()) throw new Error('not a regular file')
    if (st.size > MAX_KEY_FILE_BYTES) throw new Error(`larger than ${MAX_KEY_FILE_BYTES} bytes`)
    return await parseKeyFile(await readFile(file))
  } catch (er) {
    if ((er as NodeJS.ErrnoException).code === 'ENOENT') throw new XsError('E_NOT_FOUND', `the key file ${file} does not exist`, { path: file, cause: er })
    throw new XsError('E_KEYRING', `${file} is not a readable OpenPGP key file: ${(er as Error).message}`, { path: file, cause: er })
  }
}

/** The key files of the folder as loadKeyring sees them (regular, not hidden, not backups). */
const keyFiles = async (dir: string): Promise<string[]> => {
  try {
    const names = (await readdir(dir)).filter((n) => !n.startsWith('.') && !n.endsWith('~')).sort()
    const files = names.map((n) => join(dir, n))
    const regular = await Promise.all(files.map(async (f) => (await stat(f).catch(() => undefined))?.isFile() === true))
    return files.filter((_, i) => regular[i])
  } catch (er) {
    if ((er as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new XsError('E_KEYRING', `cannot read keyring folder ${dir}: ${(er as Error).message}`, { path: dir, cause: er })
  }
}

/** Every key in the keyring folder, usable or not, and the files that hold none. */
export const listKeyring = async (dir: string, opts: { date?: Date } = {}): Promise<KeyringListing> => {
  const out: KeyringListing = { dir, keys: [], problems: [] }
  for (const file of await keyFiles(dir)) {
    try {
      for (const key of await readKeyFile(file)) out.keys.push({ file, ...await describeKey(key, opts.date) })
    } catch (er) {
      out.problems.push({ file, reason: (er as Error).message })
    }
  }
  return out
}

/**
 * Trust the public keys in `file`: each is written to DIR/FINGERPRINT.asc
 * (armored, atomically; an older copy of the same key is replaced). All or
 * nothing: a secret key, or a key that cannot verify signatures now (expired,
 * revoked, no signing capability), refuses the whole file with E_KEYRING
 * saying why.
 */
export const addKeys = async (dir: string, file: string, opts: { date?: Date, log?: LogFn } = {}): Promise<KeyInfo[]> => {
  const log = opts.log ?? silentLog
  const keys = await readKeyFile(file)
  const infos = await Promise.all(keys.map((k) => describeKey(k, opts.date)))
  infos.forEach((info) => {
    const who = `${info.fingerprint} (${info.userIDs[0] ?? 'no user id'})`
    if (info.secret) {
      throw new XsError('E_KEYRING', `${file} holds the SECRET key ${who}: a server needs only the public key ` +
        `("gpg --armor --export ${info.fingerprint}"); keep the secret key at the NOC`, { path: file, entry: info.fingerprint })
    }
    if (!info.usable) {
      throw new XsError('E_KEYRING', `${file}: key ${who} cannot verify sticks: ${info.reason ?? 'unusable'}`,
        { path: file, entry: info.fingerprint })
    }
  })
  const existing = await listKeyring(dir, opts.date === undefined ? {} : { date: opts.date })
  await mkdir(dir, { recursive: true, mode: 0o755 })
  for (const [i, k] of keys.entries()) {
    const info = infos[i] as KeyInfo
    const dest = join(dir, keyFileName(info.fingerprint))
    const had = existing.keys.some((e) => e.file === dest)
    for (const e of existing.keys.filter((e) => e.fingerprint === info.fingerprint && e.file !== dest)) {
      log('warning', `Key ${info.fingerprint} is also in ${e.file}; remove that copy if it is outdated`)
    }
    await atomicWrite(dest, k.armor(), 0o644)
    log('notice', `${had ? 'Updated' : 'Added'} trusted NOC key ${info.fingerprint} (${info.userIDs[0] ?? 'no user id'}, ${info.algorithm}, ` +
      `expires ${info.expires ?? 'never'}) as ${dest}`)
  }
  return infos
}

/** "0xABCD 1234 ..." -> "ABCD1234..."; a long key ID (16) or fingerprint (40 or 64 hex digits). Pure. */
export const normalizeKeyId = (id: string): string => {
  const hex = id.replace(/\s+/g, '').replace(/^0x/i, '').toUpperCase()
  if (!/^[0-9A-F]+$/.test(hex) || ![16, 40, 64].includes(hex.length)) {
    throw new XsError('E_USAGE', `"${id}" is not a key fingerprint or long key ID (16, 40 or 64 hex digits)`, { actual: id })
  }
  return hex
}

/**
 * Stop trusting the key `id` (fingerprint or long key ID): its file is
 * removed, or rewritten without it when it holds other keys too
 * (atomically). E_NOT_FOUND when no file holds it.
 */
export const removeKey = async (dir: string, id: string, opts: { date?: Date, log?: LogFn } = {}): Promise<KeyringEntry[]> => {
  const log = opts.log ?? silentLog
  const want = normalizeKeyId(id)
  const removed: KeyringEntry[] = []
  for (const file of await keyFiles(dir)) {
    let keys: Key[]
    try {
      keys = await readKeyFile(file)
    } catch {
      continue
    }
    const match = (k: Key): boolean => k.getFingerprint().toUpperCase().endsWith(want)
    const hits = keys.filter(match)
    if (hits.length === 0) continue
    const rest = keys.filter((k) => !match(k))
    if (rest.length === 0) await unlink(file)
    else await atomicWrite(file, rest.map((k) => (k.isPrivate() ? k.toPublic() : k).armor()).join(''), 0o644)
    for (const k of hits) {
      const info = await describeKey(k, opts.date)
      removed.push({ file, ...info })
      log('notice', `Removed key ${info.fingerprint} (${info.userIDs[0] ?? 'no user id'}) from ${file}` +
        `${rest.length === 0 ? '' : ` (${rest.length} other key${rest.length === 1 ? '' : 's'} kept in it)`}`)
    }
  }
  if (removed.length === 0) throw new XsError('E_NOT_FOUND', `no key ${want} in ${dir}`, { path: dir, entry: want })
  return removed
}
