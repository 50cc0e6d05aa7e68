// Secret keys made by real gpg for the NOC-side tests (signing, key admin):
// optionally passphrase-protected, cert-only, or made in the past (expired).
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface SecretTestKey {
  home: string
  fingerprint: string
  secretArmored: string
  secretBinary: Buffer
  publicArmored: string
  publicBinary: Buffer
  /** `gpg --verify SIG DATA` in this key's home (status and output). */
  gpgVerify(data: Uint8Array, signature: Uint8Array): { ok: boolean, output: string }
  /** Detached signature made by gpg with this key. */
  gpgSign(data: Uint8Array, armor: boolean): Buffer
  dispose(): void
}

export interface SecretKeyOptions {
  algo?: 'rsa2048' | 'ed25519'
  passphrase?: string
  /** gpg usage of the primary key: 'sign' (default) or 'cert' (cannot sign data). */
  usage?: 'sign' | 'cert'
  expire?: string
  at?: Date
  uid?: string
}

const fakedTime = (at: Date | undefined): string[] =>
  at === undefined ? [] : ['--faked-system-time', `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '')}!`]

export const makeSecretKey = (opts: SecretKeyOptions = {}): SecretTestKey => {
  const home = mkdtempSync(join(tmpdir(), 'xsn-'))
  const pass = opts.passphrase ?? ''
  const gpg = (args: string[], input?: Uint8Array): Buffer =>
    execFileSync('gpg', ['--batch', '--quiet', '--homedir', home, '--pinentry-mode', 'loopback', '--passphrase', pass, ...args],
      { input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 })
  const uid = opts.uid ?? `NOC Signer ${opts.algo ?? 'ed25519'} <signer@example.invalid>`
  gpg([...fakedTime(opts.at), '--quick-gen-key', uid, opts.algo ?? 'ed25519', opts.usage ?? 'sign', opts.expire ?? '1y'])
  const colons = gpg(['--with-colons', '--list-keys', uid]).toString()
  const fingerprint = /^fpr:+([0-9A-F]+):/m.exec(colons)?.[1]
  if (fingerprint === undefined) throw new Error(`no fingerprint in gpg output: ${colons}`)
  return {
    home,
    fingerprint,
    secretArmored: gpg(['--armor', '--export-secret-keys', fingerprint]).toString(),
    secretBinary: gpg(['--export-secret-keys', fingerprint]),
    publicArmored: gpg(['--armor', '--export', fingerprint]).toString(),
    publicBinary: gpg(['--export', fingerprint]),
    gpgVerify: (data, signature) => {
      const d = join(home, 'data')
      const s = join(home, 'data.sig')
      writeFileSync(d, data)
      writeFileSync(s, signature)
      const r = spawnSync('gpg', ['--batch', '--homedir', home, '--status-fd', '1', '--verify', s, d], { encoding: 'utf8', timeout: 60_000 })
      return { ok: r.status === 0 && /^\[GNUPG:\] VALIDSIG /m.test(r.stdout), output: r.stdout + r.stderr }
    },
    gpgSign: (data, armor) => gpg(['-u', fingerprint, '--detach-sign', ...(armor ? ['--armor'] : []), '-o', '-'], data),
    dispose: () => {
      try {
        execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore', timeout: 10_000 })
      } finally {
        rmSync(home, { recursive: true, force: true })
      }
    },
  }
}
