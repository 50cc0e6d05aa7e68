import type { Audience } from '@xs-rsync/core'

/**
 * The commands: one line each. The module is src/commands/<name>.ts and is
 * loaded only when that command runs.
 */
export interface CommandInfo {
  summary: string
  usage: string
  /** Send the log to syslog too (the jobs a person follows in /var/log/user.log). */
  syslog?: boolean
  /** Who reads its messages (default: the school server's admin). */
  audience?: Audience
  /** A job on the store: `xs-rsync status` shows it while it runs and keeps it in the history. */
  job?: boolean
  /** What an interrupted run leaves, for the "interrupted: ..." line (default "it stopped before the end"). */
  interrupted?: string
  /** It runs until a signal stops it (systemd's stop, Ctrl-C): the signal is news, not a warning. */
  stopsBySignal?: boolean
}

export const COMMANDS: Record<string, CommandInfo> = {
  ingest: { summary: 'verify and publish the builds on a USB stick', usage: 'ingest [--check] [--allow-downgrade] SOURCE', syslog: true, interrupted: 'nothing was published' },
  refresh: { summary: 'publish new or changed builds from xobuilds-packed, remove gone ones', usage: 'refresh [--force]', syslog: true, job: true, interrupted: 'nothing was published; the builds served before are still served' },
  publish: { summary: 'verify, unpack and publish one build', usage: 'publish BUILDFILE [NAME]', syslog: true, job: true, interrupted: 'nothing was published; the builds served before are still served' },
  remove: { summary: 'stop serving builds and delete their files (a stick cannot bring them back unless --forget)', usage: 'remove [--forget] NAME...', syslog: true, job: true, interrupted: 'what it reported as removed is removed; run it again for the rest' },
  prune: { summary: 'remove the oldest builds, never the newest of a series; prints the plan unless --yes', usage: 'prune (--keep N | --free SIZE) [--yes]', syslog: true, job: true, interrupted: 'what it reported as removed is removed; run it again for the rest' },
  verify: { summary: 'check published trees against their archives in xobuilds-packed; lists every difference', usage: 'verify [NAME...]', syslog: true, job: true, interrupted: 'nothing was changed; the check did not finish' },
  unpack: { summary: 'unpack one build (with its ownership data) for inspection', usage: 'unpack BUILDFILE DESTDIR', interrupted: 'the build was not unpacked' },
  list: { summary: 'list the published builds', usage: 'list [--json]' },
  status: { summary: 'show the jobs in progress, the history of the last 50 ingests and jobs, and the builds', usage: 'status [--json]' },
  serve: { summary: 'run the rsync daemon in the foreground on the generated config', usage: 'serve [--address 127.0.0.1] [--port 873]', stopsBySignal: true },
  setup: { summary: 'install on this server: service user, store, config, systemd units, udev rule', usage: 'setup [--prefix DIR] [--dry-run]' },
  watch: { summary: 'watch for USB sticks and ingest each one (when there is no udev rule)', usage: 'watch', syslog: true, stopsBySignal: true },
  'prepare-stick': { summary: 'NOC: write builds, manifests and signatures to a stick, then check it', usage: 'prepare-stick --out DIR [--sign-key KEYFILE] [--name NAME[,NAME...]] BUILD...', audience: 'noc', interrupted: 'the stick is not ready' },
  sign: { summary: 'NOC: make a detached OpenPGP signature of a manifest', usage: 'sign MANIFEST --key KEYFILE [--out SIGFILE]', audience: 'noc', interrupted: 'no signature was written' },
  help: { summary: 'show the help of xs-rsync or of one command', usage: 'help [COMMAND]' },
  keys: { summary: 'list, add, remove or revoke trusted NOC keys; generate a NOC key', usage: 'keys list [--json] | add KEYFILE... | remove [--force] FINGERPRINT... | revoke CERTIFICATE... | generate "NAME <EMAIL>" --out DIR' },
}

/** Who reads the messages of this command line: `keys generate` is the NOC's. */
export const audienceOf = (command: string | undefined, positionals: readonly string[]): Audience =>
  command === 'keys' ? (positionals[0] === 'generate' ? 'noc' : 'school') : (command === undefined ? undefined : COMMANDS[command]?.audience) ?? 'school'

/** Old command names (the original xs-rsync scripts) -> command. */
export const ALIASES: Record<string, string> = {
  'xs-refresh-xobuilds': 'refresh',
  'xs-publish-xobuild': 'publish',
  'xs-unpack-xobuild': 'unpack',
}

/**
 * Words an admin brings from other tools (apt, rauc, git, the shell) for what
 * a command here does: an unknown command that is one of them is answered
 * with the command, where spelling alone would find nothing.
 */
export const OTHER_TOOLS_WORDS: Readonly<Record<string, string>> = {
  history: 'status',
  log: 'status',
  info: 'status',
  ls: 'list',
  rm: 'remove',
  delete: 'remove',
  purge: 'remove',
  check: 'verify',
  fsck: 'verify',
  install: 'setup',
  import: 'ingest',
}
