import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { XsConfig } from '@xs-rsync/core'

/** The built CLI (run `npx tsc -b` first; `npm test` does). */
export const XS_BIN = fileURLToPath(new URL('../../packages/xs-rsync/bin/xs-rsync.js', import.meta.url))

/** The flags that point the CLI at a test store. */
export const configArgs = (c: XsConfig): string[] =>
  ['--root', c.root, '--rsyncd-conf', c.rsyncdConf, '--rsyncd-template', c.rsyncdTemplate, '--backend', c.backend]

/** Run `xs-rsync COMMAND ...` for the test store (no syslog), bounded. */
export const xsRsync = (config: XsConfig, args: string[], timeoutMs = 300_000): SpawnSyncReturns<string> =>
  spawnSync(process.execPath, [XS_BIN, ...args, ...configArgs(config), '--no-syslog'], { encoding: 'utf8', timeout: timeoutMs })

