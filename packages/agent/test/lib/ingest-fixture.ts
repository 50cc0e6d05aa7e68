import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_CONFIG, type Level, type XsConfig } from '@xs-rsync/core'
import { listBuilds } from '@xs-rsync/publisher'
import { sampleEntries, writeSampleBuild, type SampleEntry } from '../../../xs-rsync/src/demo/sample-build.js'
import { makeKey, type TestKey } from './gpg.js'
import { makeStick, type StickOptions } from './stick.js'
import type { BuildFiles } from './stick.js'

export const DAY = 86400_000
export const daysAgo = (n: number): Date => new Date(Date.now() - n * DAY)

export interface Keys {
  /** Trusted, RSA (armored in the keyring). */
  rsa: TestKey
  /** Trusted, Ed25519 (binary in the keyring). */
  ed: TestKey
  /** Not in the keyring. */
  other: TestKey
  /** In the keyring, expired. */
  expired: TestKey
  /** In the keyring, revoked. */
  revoked: TestKey
}

/** Throwaway gpg keys made 30 days ago (so sticks can be signed "in the past"). */
export const makeKeys = (): Keys => {
  const at = daysAgo(30)
  return {
    rsa: makeKey({ algo: 'rsa2048', expire: '1y', at, uid: 'NOC RSA <noc-rsa@example.invalid>' }),
    ed: makeKey({ algo: 'ed25519', expire: '1y', at, uid: 'NOC Ed <noc-ed@example.invalid>' }),
    other: makeKey({ algo: 'ed25519', expire: '1y', at, uid: 'Stranger <x@example.invalid>' }),
    expired: makeKey({ algo: 'ed25519', expire: '1d', at: new Date('2020-01-01T00:00:00Z'), uid: 'Old NOC <old@example.invalid>' }),
    revoked: (() => { const k = makeKey({ algo: 'ed25519', expire: '1y', at, uid: 'Revoked NOC <rev@example.invalid>' }); k.revoke(); return k })(),
  }
}

export const disposeKeys = (keys: Keys): void => { for (const k of Object.values(keys)) k.dispose() }

/** A keyring folder: rsa armored, ed binary, the expired and the revoked key. */
export const writeKeyring = (dir: string, keys: Keys): string => {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'noc-rsa.asc'), keys.rsa.armored)
  writeFileSync(join(dir, 'noc-ed.gpg'), keys.ed.binary)
  writeFileSync(join(dir, 'old-noc.asc'), keys.expired.armored)
  writeFileSync(join(dir, 'revoked-noc.gpg'), keys.revoked.binary)
  return dir
}

export const testConfig = (dir: string, keyring: string): XsConfig => ({
  ...DEFAULT_CONFIG,
  root: join(dir, 'store'),
  rsyncdConf: join(dir, 'xs-rsyncd.conf'),
  rsyncdTemplate: join(dir, 'no-template.in'),
  keyring,
  mountBase: join(dir, 'mnt'),
  syslogSocket: join(dir, 'no-syslog'),
  reserveBytes: 0,
})

/** A sample build NAME; `variant` changes its content (so its tarball differs). */
export const sampleBuild = async (dir: string, name: string, variant = '', entries?: SampleEntry[]): Promise<BuildFiles> => {
  const out = mkdtempSync(join(dir, `build-${name}-`))
  const list = entries ?? [...sampleEntries(), ...(variant === '' ? [] : [{
    name: 'etc/variant', type: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtime: new Date('2026-02-01T00:00:00Z'), content: `${variant}\n`,
  }])]
  return writeSampleBuild(out, name, list)
}

let sticks = 0
/** A new stick folder under `dir`. */
export const stickOf = (dir: string, builds: BuildFiles[], opts: StickOptions = {}): string =>
  makeStick(join(dir, `stick-${++sticks}`), builds, opts)

/** Collects log lines ("level message"). */
export const logSink = (): { log: (level: Level, msg: string) => void, lines: string[], text: () => string } => {
  const lines: string[] = []
  return { log: (level, msg) => { lines.push(`${level} ${msg}`) }, lines, text: () => lines.join('\n') }
}

const ls = (d: string): string[] => { try { return readdirSync(d).sort() } catch { return [] } }

/** What a refused stick must leave unchanged: published builds, rsync config, packed folder; and no staging. */
export const storeSnapshot = async (config: XsConfig): Promise<{ builds: string, conf: string, packed: string[], packedBytes: string }> => ({
  builds: JSON.stringify(await listBuilds(config)),
  conf: (() => { try { return readFileSync(config.rsyncdConf, 'utf8') } catch { return '' } })(),
  packed: ls(join(config.root, 'xobuilds-packed')),
  packedBytes: ls(join(config.root, 'xobuilds-packed'))
    .map((f) => readFileSync(join(config.root, 'xobuilds-packed', f)).toString('base64')).join(','),
})

export const stagingLeft = (config: XsConfig): string[] => ls(join(config.root, 'tmp'))
