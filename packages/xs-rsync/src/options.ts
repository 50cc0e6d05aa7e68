/**
 * The one options table: parseArgs reads it and --help is rendered from it.
 * `commands` lists where a flag applies ('*' = every command). Every key of
 * the config file (CONFIG_KEYS) is also a flag of the same name.
 */
export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  help: string
  commands: string[]
  /** Shown in --help as the value's name. */
  arg?: string
}

export const OPTIONS: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', help: 'show this help', commands: ['*'] },
  version: { type: 'boolean', short: 'V', help: 'show the version', commands: ['*'] },
  config: { type: 'string', arg: 'FILE', help: 'config file (default /etc/xs-rsync/xs-rsync.conf when it exists)', commands: ['*'] },
  root: { type: 'string', arg: 'DIR', help: 'store root (default /library/xs-rsync)', commands: ['*'] },
  'rsyncd-conf': { type: 'string', arg: 'FILE', help: 'generated rsync daemon config (default /etc/xs-rsyncd.conf)', commands: ['*'] },
  'rsyncd-template': { type: 'string', arg: 'FILE', help: 'rsync config template (default /etc/xs-rsyncd.conf.in, built-in when absent)', commands: ['*'] },
  backend: { type: 'string', arg: 'NAME', help: 'ownership backend: fake-super (default) or fakeroot', commands: ['*'] },
  keyring: { type: 'string', arg: 'DIR', help: 'trusted NOC public keys (default /etc/xs-rsync/keys)', commands: ['ingest', 'watch', 'keys'] },
  security: { type: 'string', arg: 'MODE', help: 'enforcing or permissive (default: enforcing when the keyring has a usable key)', commands: ['ingest', 'watch'] },
  reserve: { type: 'string', arg: 'SIZE', help: 'free space the store keeps, e.g. 512M (default) or 2G', commands: ['ingest', 'watch'] },
  'mount-base': { type: 'string', arg: 'DIR', help: 'where sticks are mounted (default /run/xs-rsync)', commands: ['ingest', 'watch'] },
  'syslog-socket': { type: 'string', arg: 'PATH', help: 'syslog socket when not under systemd (default /dev/log)', commands: ['*'] },
  'no-syslog': { type: 'boolean', help: 'do not send the log to syslog', commands: ['*'] },
  quiet: { type: 'boolean', short: 'q', help: 'terminal shows warnings and errors only', commands: ['*'] },
  force: { type: 'boolean', help: 'refresh: unpack every build again; keys remove: remove the last usable key', commands: ['refresh', 'keys'] },
  forget: { type: 'boolean', help: 'also forget the removed builds, so a stick holding them may publish them again', commands: ['remove'] },
  keep: { type: 'string', arg: 'N', help: 'keep at most N builds', commands: ['prune'] },
  free: { type: 'string', arg: 'SIZE', help: 'remove builds until SIZE is free on the store (e.g. 10G, 500M)', commands: ['prune'] },
  yes: { type: 'boolean', help: 'remove them (without it prune only prints what it would remove)', commands: ['prune'] },
  json: { type: 'boolean', help: 'machine-readable output', commands: ['list', 'status', 'keys'] },
  address: { type: 'string', arg: 'ADDR', help: 'address to listen on (default 127.0.0.1)', commands: ['serve'] },
  port: { type: 'string', arg: 'PORT', help: 'port to listen on (default 873)', commands: ['serve'] },
  check: { type: 'boolean', help: 'verify everything, change nothing', commands: ['ingest'] },
  'allow-sha1': { type: 'boolean', help: 'accept a stick whose only signed manifest is manifest.sha1 (SHA-1 is broken for collisions)', commands: ['ingest', 'watch'] },
  'allow-downgrade': { type: 'boolean', help: 'accept a stick signed earlier than what is published', commands: ['ingest', 'watch'] },
  out: { type: 'string', arg: 'PATH', help: 'prepare-stick: the stick folder; sign: the signature file (default MANIFEST.sig); keys generate: the folder for the new key', commands: ['prepare-stick', 'sign', 'keys'] },
  'sign-key': { type: 'string', arg: 'FILE', help: 'OpenPGP secret key file to sign the manifests with', commands: ['prepare-stick'] },
  key: { type: 'string', arg: 'FILE', help: 'OpenPGP secret key file to sign with', commands: ['sign'] },
  'passphrase-file': { type: 'string', arg: 'FILE', help: 'first line = the secret key passphrase (or set XS_RSYNC_PASSPHRASE; never on the command line)', commands: ['prepare-stick', 'sign', 'keys'] },
  name: { type: 'string', arg: 'NAME[,NAME...]', help: 'build name for each BUILD without a .name file, in order', commands: ['prepare-stick'] },
  expires: { type: 'string', arg: 'TIME', help: 'lifetime of a generated key: 2y (default), 18m, 26w, 365d or never', commands: ['keys'] },
  prefix: { type: 'string', arg: 'DIR', help: 'install into DIR as if it were / (tests, images)', commands: ['setup'] },
  'dry-run': { type: 'boolean', help: 'print what would be done, change nothing', commands: ['setup'] },
}
