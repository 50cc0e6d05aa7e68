/**
 * The one table of error codes: each code's CLI exit status, the short words a
 * person reads in syslog, and what to do about it. The README, every --help
 * and the admin guide list this table; test/docs-exit-codes.ts checks they agree.
 */
export interface ErrorInfo {
  /** Process exit status for the CLI. */
  readonly exit: number
  /** Short words for the log line: "FAILED: <summary>: <message>". */
  readonly summary: string
  /** What the person at the school server should do (ingest, refresh, serve...). */
  readonly advice: string
  /**
   * What the NOC operator should do (prepare-stick, sign, keys generate),
   * when it differs: never "ask the NOC" or "plug the stick in again".
   */
  readonly noc?: string
}

/** Who reads a command's messages: the school server's admin or the NOC operator. */
export type Audience = 'school' | 'noc'

export const ERROR_TABLE = {
  E_INTERNAL: { exit: 1, summary: 'internal error', advice: 'Report this with /var/log/user.log to the NOC.', noc: 'This is a bug in xs-rsync: report it to its developers with the lines above.' },
  E_USAGE: { exit: 2, summary: 'wrong command usage', advice: 'Run "xs-rsync help COMMAND" for its usage and options.' },
  E_CONFIG: { exit: 3, summary: 'bad configuration', advice: 'Fix the named configuration file and try again.' },
  E_LOCKED: { exit: 4, summary: 'another xs-rsync job is running', advice: 'Wait for it to finish, then try again.' },
  E_NO_SPACE: { exit: 5, summary: 'not enough free space', advice: 'Free space on the server (remove old builds) and plug the stick in again; the "reserve" setting (--reserve) is the space kept free.', noc: 'The stick (or the disk written to) is full: use a bigger stick or fewer builds.' },
  E_IO: { exit: 6, summary: 'read or write error', advice: 'Check the disk and the stick, then try again.', noc: 'Check the disk and the stick (dmesg), then run the command again.' },
  E_NOT_FOUND: { exit: 7, summary: 'file or device not found', advice: 'Check the path or plug the stick in again.', noc: 'Check the path (is the stick mounted there?), then run the command again.' },
  E_TOOL_MISSING: { exit: 8, summary: 'a required system tool is missing', advice: 'Install the named tool (see the admin guide), then try again.' },
  E_PERMISSION: { exit: 9, summary: 'permission denied', advice: 'Run the command as root (for example with sudo).' },
  E_BUILD_INCOMPLETE: { exit: 10, summary: 'build is incomplete', advice: 'Ask the NOC for a complete stick (each build needs its tarball, .md5, .contents and .name).', noc: 'Each build needs its tarball, .md5, .contents and .name (or --name): add what is missing, then run the command again.' },
  E_BUILD_NAME: { exit: 11, summary: 'build name is not allowed', advice: 'Ask the NOC to rename the build (letters, digits, ".", "_", "-" only).', noc: 'Name the build with letters, digits, ".", "_", "-" only (its .name file or --name).' },
  E_CHECKSUM: { exit: 12, summary: 'build checksum does not match', advice: 'The tarball is damaged: ask the NOC for a new copy.', noc: 'The tarball does not match its .md5: copy it again from the build machine.' },
  E_ARCHIVE_UNSAFE: { exit: 13, summary: 'build archive contains an unsafe entry', advice: 'Do not use this build; report it to the NOC.', noc: 'Do not ship this build (school servers refuse it): fix the named entry in the build.' },
  E_ARCHIVE_CORRUPT: { exit: 14, summary: 'build archive is damaged', advice: 'The tarball is truncated or corrupt: ask the NOC for a new copy.', noc: 'The tarball is truncated or corrupt: copy it again from the build machine.' },
  E_ARCHIVE_FORMAT: { exit: 15, summary: 'build archive format is not supported', advice: 'Builds must be .tar.bz2, .tar.xz or .tar.lzma.' },
  E_OWNERSHIP: { exit: 16, summary: 'cannot record file ownership', advice: 'The store filesystem must support user xattrs (fake-super) or the fakeroot state must be intact; see the admin guide.' },
  E_RSYNC: { exit: 17, summary: 'rsync daemon problem', advice: 'Check that rsync is installed and the generated config is valid.' },
  E_PORT_IN_USE: { exit: 18, summary: 'the port is in use', advice: 'Another program listens on that port ("ss -ltnp" shows which; after "xs-rsync setup", xs-rsyncd.socket serves port 873 already): stop it, or give serve another --port.' },
  E_TREE_DIFFERS: { exit: 19, summary: 'a published build differs from its archive', advice: 'The listed files were changed on disk (by hand or a failing disk): check the disk, then "xs-rsync refresh --force" unpacks the build again.' },
  E_MANIFEST: { exit: 20, summary: 'stick manifest is malformed', advice: 'Ask the NOC to prepare the stick again with "xs-rsync prepare-stick".', noc: 'Run "xs-rsync prepare-stick" again to write a new manifest.' },
  E_MANIFEST_MISMATCH: { exit: 21, summary: 'stick contents do not match the manifest', advice: 'The stick is damaged or was altered: ask the NOC for a new stick.', noc: 'The stick changed while it was written, or it is failing: run "xs-rsync prepare-stick" again or use another stick.' },
  E_SIGNATURE_MISSING: { exit: 22, summary: 'stick is not signed', advice: 'This server only accepts sticks signed by the NOC: ask the NOC for a signed stick.', noc: 'Sign the manifest ("xs-rsync prepare-stick --sign-key KEYFILE" or "xs-rsync sign").' },
  E_SIGNATURE_BAD: { exit: 23, summary: 'stick signature is not valid', advice: 'Do not use this stick: it is not signed by a trusted, current NOC key. Report it to the NOC.', noc: 'Sign again with a current NOC key that the school servers trust.' },
  E_KEYRING: { exit: 24, summary: 'trusted key problem', advice: 'Check the key (and its passphrase) named above; on a server, "xs-rsync keys list" shows the trusted keys.', noc: 'Check the key file and its passphrase named above.' },
  E_DOWNGRADE: { exit: 25, summary: 'stick is older than what is published', advice: 'This stick would replace a build with an older one; use a newer stick, or --allow-downgrade if intended.' },
  E_STICK_CHANGED: { exit: 26, summary: 'stick changed or was removed while reading', advice: 'Keep the stick plugged in until the log says it is done, then plug it in again.', noc: 'Keep the stick mounted until the command is done, then run it again.' },
  E_MOUNT: { exit: 27, summary: 'cannot mount the stick', advice: 'Check the stick in another computer; it may be damaged or unformatted.', noc: 'Check the stick; format it FAT32 or ext4.' },
  E_NO_BUILD: { exit: 28, summary: 'no such build', advice: 'Check the name: "xs-rsync list" shows the published builds.' },
  E_INTERRUPTED: { exit: 130, summary: 'interrupted', advice: 'Nothing half-done is served: run the command again (or plug the stick in again) when you are ready.', noc: 'Run the command again when you are ready.' },
} as const satisfies Record<string, ErrorInfo>

export type ErrorCode = keyof typeof ERROR_TABLE

/** What the reader of a command should do about `code`. */
export const adviceFor = (code: ErrorCode, audience: Audience = 'school'): string => {
  const info: ErrorInfo = ERROR_TABLE[code]
  return audience === 'noc' ? info.noc ?? info.advice : info.advice
}

export const isErrorCode = (s: unknown): s is ErrorCode =>
  typeof s === 'string' && Object.hasOwn(ERROR_TABLE, s)
