import { rsyncdRewrites } from './rsyncd-value.js'
import { XsError } from './xs-error.js'

export type Backend = 'fake-super' | 'fakeroot'
export type SecurityMode = 'enforcing' | 'permissive'

/** Every setting; the CLI flags and the config file use the same keys. */
export interface XsConfig {
  /** Store root. */
  root: string
  /** The generated rsync daemon config. */
  rsyncdConf: string
  /** The template the config starts with (a built-in one when the file is absent). */
  rsyncdTemplate: string
  /** How ownership is kept for clients. */
  backend: Backend
  /** Folder of trusted NOC public keys. */
  keyring: string
  /**
   * Unset: enforcing, except on a fresh install (the keyring folder at its
   * default place, holding no key, and the store never trusted one): permissive.
   */
  security?: SecurityMode
  /** Accept a stick whose only signed manifest is manifest.sha1 (SHA-1 is broken for collisions): `allow-sha1 = yes`. */
  allowSha1?: boolean
  /** Syslog socket used when not under systemd. */
  syslogSocket: string
  /** Free space kept in reserve on the store, in bytes. */
  reserveBytes: number
  /** Folder where block devices are mounted. */
  mountBase: string
}

export const DEFAULT_CONFIG_FILE = '/etc/xs-rsync/xs-rsync.conf'

export const DEFAULT_CONFIG: Readonly<XsConfig> = {
  root: '/library/xs-rsync',
  rsyncdConf: '/etc/xs-rsyncd.conf',
  rsyncdTemplate: '/etc/xs-rsyncd.conf.in',
  backend: 'fake-super',
  keyring: '/etc/xs-rsync/keys',
  syslogSocket: '/dev/log',
  reserveBytes: 512 * 1024 * 1024,
  mountBase: '/run/xs-rsync',
}

/** Config-file keys (kebab-case, as the CLI flags) to XsConfig fields. */
export const CONFIG_KEYS = {
  root: 'root',
  'rsyncd-conf': 'rsyncdConf',
  'rsyncd-template': 'rsyncdTemplate',
  backend: 'backend',
  keyring: 'keyring',
  security: 'security',
  'allow-sha1': 'allowSha1',
  'syslog-socket': 'syslogSocket',
  reserve: 'reserveBytes',
  'mount-base': 'mountBase',
} as const satisfies Record<string, keyof XsConfig>

export type ConfigKey = keyof typeof CONFIG_KEYS

const SIZE_RE = /^(\d+)\s*([KMGT]i?B?|B)?$/i
const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }

/** "512M", "2G", "1048576" -> bytes; undefined when not a size. */
export const parseSize = (s: string): number | undefined => {
  const m = SIZE_RE.exec(s.trim())
  if (!m) return undefined
  const unit = (m[2] ?? '').charAt(0).toUpperCase()
  const mult = UNITS[unit]
  return mult === undefined ? undefined : Number(m[1]) * mult
}

/**
 * Set one key to a string value, checked. Throws E_CONFIG naming `where` (a
 * file and line), or, for a command-line flag (`where` undefined), E_USAGE
 * naming the flag.
 */
export const setConfigValue = (cfg: Partial<XsConfig>, key: string, value: string, where?: string): void => {
  if (!Object.hasOwn(CONFIG_KEYS, key)) {
    throw new XsError('E_CONFIG', `${where ?? 'the command line'}: unknown setting "${key}"`, { path: where, entry: key })
  }
  const field = CONFIG_KEYS[key as ConfigKey]
  const bad = (why: string): XsError => where === undefined
    ? new XsError('E_USAGE', `--${key} "${value}": ${why}`, { entry: key, actual: value })
    : new XsError('E_CONFIG', `${where}: ${key} = "${value}": ${why}`, { path: where, entry: key, actual: value })
  switch (field) {
    case 'backend':
      if (value !== 'fake-super' && value !== 'fakeroot') throw bad('must be fake-super or fakeroot')
      cfg.backend = value
      return
    case 'security':
      if (value !== 'enforcing' && value !== 'permissive') throw bad('must be enforcing or permissive')
      cfg.security = value
      return
    case 'allowSha1':
      if (!/^(yes|no|true|false)$/i.test(value)) throw bad('must be yes or no')
      cfg.allowSha1 = /^(yes|true)$/i.test(value)
      return
    case 'reserveBytes': {
      const n = parseSize(value)
      if (n === undefined) throw bad('must be a size such as 512M or 2G')
      cfg.reserveBytes = n
      return
    }
    default:
      if (value === '' || !value.startsWith('/')) throw bad('must be an absolute path')
      if (/[\0\n\r]/.test(value)) throw bad('contains a control character')
      // the store root is written into the rsync daemon config
      if (field === 'root' && rsyncdRewrites(value)) throw bad('"%" or a trailing backslash cannot go into the rsync config')
      cfg[field] = value
  }
}

/**
 * Parse the config file text: `key = value` lines, `#` or `;` comments.
 * Pure: no I/O. `where` names the file in errors.
 */
export const parseConfigText = (text: string, where: string): Partial<XsConfig> => {
  const cfg: Partial<XsConfig> = {}
  const lines = text.split('\n')
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '').trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return
    const eq = line.indexOf('=')
    if (eq < 0) {
      throw new XsError('E_CONFIG', `${where}:${i + 1}: expected "key = value"`, { path: where, entry: line })
    }
    setConfigValue(cfg, line.slice(0, eq).trim(), line.slice(eq + 1).trim(), `${where}:${i + 1}`)
  })
  return cfg
}
