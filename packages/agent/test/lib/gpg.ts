import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A throwaway gpg key made by real gpg, in its own home folder. */
export interface TestKey {
  home: string
  fingerprint: string
  /** Public key, armored. */
  armored: string
  /** Public key, binary. */
  binary: Buffer
  /** Detached signature of `data` made by gpg (binary, or armored), optionally at a faked time. */
  sign(data: Uint8Array, opts?: { armor?: boolean, at?: Date }): Buffer
  /** Revoke the key: armored/binary become the revoked public key (gpg's revocation certificate applied); sign() still works. */
  revoke(): void
  /** Stop its gpg-agent and remove its home. */
  dispose(): void
}

export interface MakeKeyOptions {
  algo?: 'rsa2048' | 'ed25519'
  /** gpg expiry, e.g. '1d' */
  expire?: string
  /** Make the key (and its signatures) at this time, e.g. in the past so that it has expired. */
  at?: Date
  uid?: string
}

const fakedTime = (at: Date | undefined): string[] =>
  at === undefined ? [] : ['--faked-system-time', `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '')}!`]

/**
 * Make a key with real gpg. The gpg home is a short path under the system temp
 * folder (gpg-agent's socket path must be short); call dispose() when done.
 */
export const makeKey = (opts: MakeKeyOptions = {}): TestKey => {
  const home = mkdtempSync(join(tmpdir(), 'xsg-'))
  const gpg = (args: string[], input?: Uint8Array): Buffer =>
    execFileSync('gpg', ['--batch', '--quiet', '--homedir', home, '--pinentry-mode', 'loopback', '--passphrase', '', ...args],
      { input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 })
  const uid = opts.uid ?? `NOC Test ${opts.algo ?? 'rsa2048'} <noc@example.invalid>`
  gpg([...fakedTime(opts.at), '--quick-gen-key', uid, opts.algo ?? 'rsa2048', 'sign', opts.expire ?? '1d'])
  const colons = gpg(['--with-colons', '--list-keys', uid]).toString()
  const fingerprint = /^fpr:+([0-9A-F]+):/m.exec(colons)?.[1]
  if (fingerprint === undefined) throw new Error(`no fingerprint in gpg output: ${colons}`)
  const key: TestKey = {
    home,
    fingerprint,
    armored: '',
    binary: Buffer.alloc(0),
    sign: (data, s = {}) =>
      gpg([...fakedTime(s.at), '-u', fingerprint, '--detach-sign', ...(s.armor === true ? ['--armor'] : []), '-o', '-'], data),
    revoke: () => {
      // revoke in a second home holding only the public key, so this home can still sign (as a thief would)
      const pubHome = mkdtempSync(join(tmpdir(), 'xsg-'))
      try {
        const g2 = (args: string[], input?: Uint8Array): Buffer =>
          execFileSync('gpg', ['--batch', '--quiet', '--homedir', pubHome, ...args], { input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 })
        g2(['--import'], key.binary)
        g2(['--import'], Buffer.from(readFileSync(join(home, 'openpgp-revocs.d', `${fingerprint}.rev`), 'utf8').replace(/^:-----BEGIN/m, '-----BEGIN')))
        key.armored = g2(['--armor', '--export', fingerprint]).toString()
        key.binary = g2(['--export', fingerprint])
      } finally {
        try { execFileSync('gpgconf', ['--homedir', pubHome, '--kill', 'gpg-agent'], { stdio: 'ignore', timeout: 10_000 }) } catch {}
        rmSync(pubHome, { recursive: true, force: true })
      }
    },
    dispose: () => {
      try {
        execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore', timeout: 10_000 })
      } finally {
        rmSync(home, { recursive: true, force: true })
      }
    },
  }
  const refresh = (): void => {
    key.armored = gpg(['--armor', '--export', fingerprint]).toString()
    key.binary = gpg(['--export', fingerprint])
  }
  refresh()
  return key
}
