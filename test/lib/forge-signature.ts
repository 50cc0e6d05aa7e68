import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { config, decryptKey, enums, LiteralDataPacket, PacketList, readPrivateKey, SignaturePacket } from 'openpgp'

/** A key whose only subkey may authenticate but not sign, and a signature that subkey made anyway. */
export interface AuthOnlySubkey {
  /** Public key (primary cert-only + the auth-only subkey), armored. */
  publicArmored: string
  /** Key ID (hex, upper-case) of the subkey. */
  subkeyID: string
  /** A cryptographically valid detached signature of `data` by the subkey (binary). */
  forge(data: Uint8Array): Promise<Buffer>
  dispose(): void
}

/**
 * gpg refuses to sign with a subkey that lacks the signing flag ("Unusable
 * secret key"), so the signature is forged with openpgp's packet API from the
 * exported secret subkey: the maths are right, only the key's flags say no.
 */
export const makeAuthOnlySubkey = async (): Promise<AuthOnlySubkey> => {
  const home = mkdtempSync(join(tmpdir(), 'xsf-'))
  const gpg = (args: string[]): Buffer =>
    execFileSync('gpg', ['--batch', '--quiet', '--homedir', home, '--pinentry-mode', 'loopback', '--passphrase', 'x', ...args],
      { stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 })
  const uid = 'Auth only <auth-only@example.invalid>'
  gpg(['--quick-gen-key', uid, 'ed25519', 'cert', '1y'])
  const primary = /^fpr:+([0-9A-F]+):/m.exec(gpg(['--with-colons', '--list-keys', uid]).toString())?.[1]
  if (primary === undefined) throw new Error('gpg made no key')
  gpg(['--quick-add-key', primary, 'ed25519', 'auth', '1y'])
  const secret = await decryptKey({ privateKey: await readPrivateKey({ armoredKey: gpg(['--armor', '--export-secret-keys', primary]).toString() }), passphrase: 'x' })
  const sub = secret.subkeys[0]?.keyPacket
  if (sub === undefined) throw new Error('no subkey')
  return {
    publicArmored: gpg(['--armor', '--export', primary]).toString(),
    subkeyID: sub.getKeyID().toHex().toUpperCase(),
    forge: async (data) => {
      // setBytes and sign's config argument are missing from openpgp's public types (both needed at run time)
      const literal = new LiteralDataPacket()
      ;(literal as unknown as { setBytes(b: Uint8Array, f: enums.literal): void }).setBytes(data, enums.literal.binary)
      const sig = new SignaturePacket()
      sig.signatureType = enums.signature.binary
      sig.publicKeyAlgorithm = sub.algorithm
      sig.hashAlgorithm = enums.hash.sha256
      sig.issuerKeyID = sub.getKeyID()
      sig.issuerFingerprint = sub.getFingerprintBytes() as Uint8Array
      sig.issuerKeyVersion = sub.version
      await (sig.sign as (...a: unknown[]) => Promise<void>).call(sig, sub, literal, new Date(), false, config)
      const list = new PacketList()
      list.push(sig)
      return Buffer.from(list.write() as Uint8Array)
    },
    dispose: () => {
      try {
        execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore', timeout: 10_000 })
      } finally {
        rmSync(home, { recursive: true, force: true })
      }
    },
  }
}

/** `gpg --clearsign` of `data` with the key in `home`. */
export const clearSign = (home: string, fingerprint: string, data: Uint8Array): Buffer =>
  execFileSync('gpg', ['--batch', '--quiet', '--homedir', home, '--pinentry-mode', 'loopback', '--passphrase', '', '-u', fingerprint, '--clearsign', '-o', '-'],
    { input: data, stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 })
