import { createMessage, readSignature, SignaturePacket, verify, type PublicKey, type Signature } from 'openpgp'
import { XsError } from '@xs-rsync/core'

export interface VerifyDetachedOptions {
  /** The signed bytes (the manifest). */
  data: Uint8Array
  /** The detached signature file: armored or binary, as `gpg --detach-sign [--armor]` makes. */
  signature: Uint8Array
  /** Pinned keys: only these count. */
  keys: PublicKey[]
  /** Check key validity at this time (default: now). */
  date?: Date
  /** Names the signature file in errors. */
  where?: string
}

export interface VerifiedSignature {
  /** Key ID (hex, upper-case) of the (sub)key that made the signature. */
  keyID: string
  /** Fingerprint (hex, upper-case) of the pinned primary key. */
  fingerprint: string
  /** That key's first user ID ("no user id" when it has none). */
  userID: string
  /** When the signature was made (signature creation time). */
  created: Date
}

const ARMOR_END = '-----END PGP SIGNATURE-----'

/**
 * An armored file is one signature block and nothing else but white space:
 * openpgp would read the first block and ignore any text around it, and a
 * file from a hostile stick carries no unread parts. Pure.
 */
export const armorIsWhole = (text: string): boolean => {
  const end = text.indexOf(ARMOR_END)
  return end >= 0 && text.slice(end + ARMOR_END.length).trim() === ''
}

const readDetached = async (bytes: Uint8Array, where: string): Promise<Signature> => {
  const head = Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart()
  if (head.startsWith('-----BEGIN PGP SIGNED MESSAGE')) {
    throw new XsError('E_SIGNATURE_BAD', `${where} is a clear-signed message, not a detached signature`, { path: where })
  }
  const armored = head.startsWith('-----BEGIN PGP')
  const text = armored ? Buffer.from(bytes).toString('utf8') : ''
  if (armored && !armorIsWhole(text)) {
    throw new XsError('E_SIGNATURE_BAD', `${where} is not one armored signature block alone (text after its END line, or no END line)`, { path: where })
  }
  try {
    return armored
      ? await readSignature({ armoredSignature: text })
      : await readSignature({ binarySignature: bytes })
  } catch (er) {
    throw new XsError('E_SIGNATURE_BAD', `${where} is not an OpenPGP detached signature: ${(er as Error).message}`,
      { path: where, cause: er })
  }
}

/**
 * Verify a detached OpenPGP signature over `data`. Resolves only when the file
 * holds exactly one signature packet, it is valid, made by one of `keys`, and that key can sign
 * at `date` (not expired, not revoked); otherwise throws E_SIGNATURE_BAD
 * naming each reason. openpgp's verify() resolves even for invalid
 * signatures, so every packet's `verified` promise is awaited here: this
 * module never fails open.
 */
export const verifyDetachedSignature = async (opts: VerifyDetachedOptions): Promise<VerifiedSignature> => {
  const where = opts.where ?? 'signature'
  const date = opts.date ?? new Date()
  const sig = await readDetached(opts.signature, where)
  if (sig.packets.some((p) => !(p instanceof SignaturePacket))) {
    throw new XsError('E_SIGNATURE_BAD', `${where} holds something other than a signature`, { path: where })
  }
  // one signature, one answer: gpg --verify fails when any signature in the file is bad, and a file
  // with a good and a bad signature must not mean "good" here and "bad" there
  if (sig.packets.length !== 1) {
    throw new XsError('E_SIGNATURE_BAD', `${where} holds ${sig.packets.length} signatures; a stick's signature file must hold exactly one`,
      { path: where, expected: 1, actual: sig.packets.length })
  }
  const reasons: string[] = []
  if (opts.keys.length > 0) {
    const res = await verify({
      message: await createMessage({ binary: opts.data }),
      signature: sig,
      verificationKeys: opts.keys,
      format: 'binary',
      date,
    })
    for (const s of res.signatures) {
      const keyID = s.keyID.toHex().toUpperCase()
      try {
        if ((await s.verified) !== true) throw new Error('not verified')
        const key = opts.keys.find((k) => k.getKeys(s.keyID).length > 0)
        if (key === undefined) throw new Error('not made by a trusted key')
        await key.getSigningKey(s.keyID, date)
        const created = (await s.signature).packets[0]?.created
        if (!(created instanceof Date)) throw new Error('signature has no creation time')
        return { keyID, fingerprint: key.getFingerprint().toUpperCase(), userID: key.getUserIDs()[0] ?? 'no user id', created }
      } catch (er) {
        reasons.push(`by key ${keyID}: ${(er as Error).message}`)
      }
    }
  }
  const ids = sig.getSigningKeyIDs().map((k) => k.toHex().toUpperCase()).join(',')
  if (reasons.length === 0) reasons.push(`made by unknown key ${ids || '(none)'}`)
  // `actual` carries the signing key IDs so the caller can say more (e.g. "that key has expired")
  throw new XsError('E_SIGNATURE_BAD', `${where}: no valid signature by a trusted key (${reasons.join('; ')})`,
    { path: where, actual: ids })
}
