/**
 * The one table of error codes: each code's CLI exit status, the short words a
 * person reads in syslog, and what to do about it. The README and the admin
 * guide list this table; keep them in step (a test checks the README).
 */
export interface ErrorInfo {
  /** Process exit status for the CLI. */
  readonly exit: number
  /** Short words for the log line: "FAILED: <summary>: <message>". */
  readonly summary: string
  /** What the person at the server should do. */
  readonly advice: string
}

export const ERROR_TABLE = {
  E_INTERNAL: { exit: 1, summary: 'internal error', advice: 'Report this with /var/log/user.log to the NOC.' },
  E_USAGE: { exit: 2, summary: 'wrong command usage', advice: 'Run "xs-rsync --help".' },
  E_CONFIG: { exit: 3, summary: 'bad configuration', advice: 'Fix the named configuration file and try again.' },
  E_LOCKED: { exit: 4, summary: 'another xs-rsync job is running', advice: 'Wait for it to finish, then try again.' },
  E_NO_SPACE: { exit: 5, summary: 'not enough free space', advice: 'Free space on the server (remove old builds) and plug the stick in again.' },
  E_IO: { exit: 6, summary: 'read or write error', advice: 'Check the disk and the stick, then try again.' },
  E_NOT_FOUND: { exit: 7, summary: 'file or device not found', advice: 'Check the path or plug the stick in again.' },
  E_TOOL_MISSING: { exit: 8, summary: 'a required system tool is missing', advice: 'Install the named tool (see the admin guide), then try again.' },
  E_BUILD_INCOMPLETE: { exit: 10, summary: 'build is incomplete', advice: 'Ask the NOC for a complete stick (each build needs its tarball, .md5, .contents and .name).' },
  E_BUILD_NAME: { exit: 11, summary: 'build name is not allowed', advice: 'Ask the NOC to rename the build (letters, digits, ".", "_", "-" only).' },
  E_CHECKSUM: { exit: 12, summary: 'build checksum does not match', advice: 'The tarball is damaged: ask the NOC for a new copy.' },
  E_ARCHIVE_UNSAFE: { exit: 13, summary: 'build archive contains an unsafe entry', advice: 'Do not use this build; report it to the NOC.' },
  E_ARCHIVE_CORRUPT: { exit: 14, summary: 'build archive is damaged', advice: 'The tarball is truncated or corrupt: ask the NOC for a new copy.' },
  E_ARCHIVE_FORMAT: { exit: 15, summary: 'build archive format is not supported', advice: 'Builds must be .tar.bz2, .tar.xz or .tar.lzma.' },
  E_OWNERSHIP: { exit: 16, summary: 'cannot record file ownership', advice: 'The store filesystem must support user xattrs (fake-super) or the fakeroot state must be intact; see the admin guide.' },
  E_RSYNC: { exit: 17, summary: 'rsync daemon problem', advice: 'Check that rsync is installed and the generated config is valid.' },
  E_MANIFEST: { exit: 20, summary: 'stick manifest is malformed', advice: 'Ask the NOC to prepare the stick again with "xs-rsync prepare-stick".' },
  E_MANIFEST_MISMATCH: { exit: 21, summary: 'stick contents do not match the manifest', advice: 'The stick is damaged or was altered: ask the NOC for a new stick.' },
  E_SIGNATURE_MISSING: { exit: 22, summary: 'stick is not signed', advice: 'This server only accepts sticks signed by the NOC: ask the NOC for a signed stick.' },
  E_SIGNATURE_BAD: { exit: 23, summary: 'stick signature is not valid', advice: 'Do not use this stick: it is not signed by a trusted, current NOC key. Report it to the NOC.' },
  E_KEYRING: { exit: 24, summary: 'trusted key problem', advice: 'Check the key (and its passphrase) named above; on a server, "xs-rsync keys list" shows the trusted keys.' },
  E_DOWNGRADE: { exit: 25, summary: 'stick is older than what is published', advice: 'This stick would replace a build with an older one; use a newer stick, or --allow-downgrade if intended.' },
  E_STICK_CHANGED: { exit: 26, summary: 'stick changed or was removed while reading', advice: 'Keep the stick plugged in until the log says it is done, then plug it in again.' },
  E_MOUNT: { exit: 27, summary: 'cannot mount the stick', advice: 'Check the stick in another computer; it may be damaged or unformatted.' },
} as const satisfies Record<string, ErrorInfo>

export type ErrorCode = keyof typeof ERROR_TABLE

export const isErrorCode = (s: unknown): s is ErrorCode =>
  typeof s === 'string' && Object.hasOwn(ERROR_TABLE, s)
