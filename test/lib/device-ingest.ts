// End-to-end ingest of a real block device through the CLI, logging to a real
// rsyslogd: shared by test/ingest-loop-*.ts and test/ingest-fat-*.ts.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { XsConfig } from '@xs-rsync/core'
import { XS_BIN } from './xs-cli.js'

/** A config file for `config` (mount-base has no flag: the file sets it), with syslog at `socket`. */
export const writeConfigFile = (dir: string, config: XsConfig, socket: string): string => {
  const file = join(dir, 'xs-rsync.conf')
  writeFileSync(file, [
    `root = ${config.root}`,
    `rsyncd-conf = ${config.rsyncdConf}`,
    `rsyncd-template = ${config.rsyncdTemplate}`,
    `keyring = ${config.keyring}`,
    `mount-base = ${config.mountBase}`,
    `syslog-socket = ${socket}`,
    'reserve = 0',
    ...(config.security === undefined ? [] : [`security = ${config.security}`]),
    '',
  ].join('\n'))
  return file
}

/** `xs-rsync ingest DEVICE` as a person runs it (terminal + syslog, not under systemd), bounded. */
export const ingestDevice = (configFile: string, device: string, extra: string[] = []): SpawnSyncReturns<string> => {
  const env = { ...process.env }
  delete env.INVOCATION_ID
  delete env.JOURNAL_STREAM
  return spawnSync(process.execPath, [XS_BIN, 'ingest', '--config', configFile, ...extra, device],
    { encoding: 'utf8', timeout: 300_000, env })
}

/** The user.log lines of one run (our tag, any pid), without the tag. */
export const ourLines = (lines: string[]): string[] =>
  lines.filter((l) => / xs-rsync\[\d+\]: /.test(l)).map((l) => l.replace(/ xs-rsync\[\d+\]: /, ' '))
