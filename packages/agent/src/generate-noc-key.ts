import { generateKey, type UserID } from 'openpgp'
import { XsError } from '@xs-rsync/core'

const UNIT_SECONDS: Record<string, number> = { d: 86400, w: 7 * 86400, m: 30 * 86400, y: 365 * 86400 }

/** "2y", "18m", "6w", "365d" -> seconds; "never" -> 0 (no expiry). E_USAGE otherwise. Pure. */
export const parseLifetime = (s: string): number => {
  if (s === 'never' || s === '0') return 0
  const m = /^(\d+)([dwmy])$/.exec(s.trim())
  if (m === null || Number(m[1]) === 0) {
    throw new XsError('E_USAGE', `key lifetime "${s}" is not a number of days, weeks, months or years (e.g. 2y, 18m, 365d) or "never"`, { actual: s })
  }
  return Number(m[1]) * (UNIT_SECONDS[m[2] as string] as number)
}

/** "NOC Key <noc@example.org>" -> { name, email }; a bare name is allowed. Pure. */
export const parseUserID = (s: string): UserID => {
  const m = /^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(s)
  const uid: UserID = m === null ? { name: s.trim() } : { name: m[1] as string, email: m[2] as string }
  if ((uid.name ?? '') === '' && uid.email === undefined) throw new XsError('E_USAGE', 'the key needs a user id such as "School NOC <noc@example.org>"')
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f<>]/.test(uid.name ?? '')) throw new XsError('E_USAGE', `user id ${JSON.stringify(s)} is not "Name <email>"`, { actual: s })
  // what openpgp accepts as an e-mail address (its own check only says "Invalid user ID format")
  if (uid.email !== undefined && !/^[^\p{C}\p{Z}@<>\\]+@[^\p{C}\p{Z}@<>\\]+[^\p{C}\p{Z}\p{P}]$/u.test(uid.email)) {
    throw new XsError('E_USAGE', `user id ${JSON.stringify(s)}: "${uid.email}" is not an e-mail address such as noc@example.org`, { actual: s })
  }
  return uid
}

export interface NocKey {
  fingerprint: string
  /** Armored; protected with the passphrase when one was given. */
  secretKey: string
  publicKey: string
  /** Armored revocation certificate: keep it offline, publish it if the key is lost or stolen. */
  revocationCertificate: string
}

/**
 * A new NOC signing key (Ed25519, OpenPGP v4 as GnuPG 2.2 makes and reads),
 * expiring after `lifetimeSeconds` (0 = never).
 */
export const generateNocKey = async (opts: { userID: string, passphrase?: string | undefined, lifetimeSeconds: number, date?: Date }): Promise<NocKey> => {
  const k = await generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs: [parseUserID(opts.userID)],
    keyExpirationTime: opts.lifetimeSeconds,
    format: 'object',
    ...(opts.passphrase !== undefined && opts.passphrase !== '' && { passphrase: opts.passphrase }),
    ...(opts.date && { date: opts.date }),
  })
  return {
    fingerprint: k.privateKey.getFingerprint().toUpperCase(),
    secretKey: k.privateKey.armor(),
    publicKey: k.publicKey.armor(),
    revocationCertificate: k.revocationCertificate,
  }
}
