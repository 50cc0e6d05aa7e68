import { readFile, stat } from 'node:fs/promises'
import { XsError } from '@xs-rsync/core'
import type { OptionValues } from './command-context.js'

/** The environment variable that may hold the secret key passphrase. */
export const PASSPHRASE_ENV = 'XS_RSYNC_PASSPHRASE'

const MAX_PASSPHRASE_FILE = 4096

/**
 * The secret key passphrase: the first line of --passphrase-file, else
 * $XS_RSYNC_PASSPHRASE (when not empty), else undefined. Never from the command line, where
 * other users could read it (ps, shell history).
 */
export const readPassphrase = async (values: OptionValues, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> => {
  const file = values['passphrase-file']
  if (typeof file === 'string') {
    try {
      if ((await stat(file)).size > MAX_PASSPHRASE_FILE) throw new Error(`larger than ${MAX_PASSPHRASE_FILE} bytes`)
      return (await readFile(file, 'utf8')).split('\n')[0]?.replace(/\r$/, '') ?? ''
    } catch (er) {
      throw new XsError('E_NOT_FOUND', `cannot read the passphrase file ${file}: ${(er as Error).message}`, { path: file, cause: er })
    }
  }
  const v = env[PASSPHRASE_ENV]
  return v === '' ? undefined : v
}
