import { readFile } from 'node:fs/promises'
import { DEFAULT_CONFIG, DEFAULT_CONFIG_FILE, parseConfigText, type XsConfig } from './config.js'
import { XsError } from './xs-error.js'

/**
 * Defaults, then the config file (the named one must exist; the default one
 * only when present), then explicit overrides (CLI flags).
 */
export const loadConfig = async (
  file: string | undefined,
  overrides: Partial<XsConfig> = {},
): Promise<XsConfig> => {
  const path = file ?? DEFAULT_CONFIG_FILE
  let fromFile: Partial<XsConfig> = {}
  try {
    fromFile = parseConfigText(await readFile(path, 'utf8'), path)
  } catch (er) {
    const code = (er as NodeJS.ErrnoException).code
    if (!(code === 'ENOENT' && file === undefined)) {
      if (er instanceof XsError) throw er
      if (code === 'ENOENT') throw new XsError('E_NOT_FOUND', `config file ${path} does not exist`, { path, cause: er })
      throw new XsError('E_CONFIG', `cannot read config file ${path}: ${(er as Error).message}`, { path, cause: er })
    }
  }
  return { ...DEFAULT_CONFIG, ...fromFile, ...overrides }
}
