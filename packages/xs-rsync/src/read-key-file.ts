import { readFile, stat } from 'node:fs/promises'
import { MAX_KEY_FILE_BYTES } from '@xs-rsync/agent'
import { XsError } from '@xs-rsync/core'

/** The bytes of a (secret) key file named on the command line, within the key file size limit. */
export const readKeyFileArg = async (file: string): Promise<Buffer> => {
  try {
    const st = await stat(file)
    if (!st.isFile()) throw new Error('not a regular file')
    if (st.size > MAX_KEY_FILE_BYTES) throw new Error(`larger than ${MAX_KEY_FILE_BYTES} bytes: not a key file`)
    return await readFile(file)
  } catch (er) {
    if ((er as NodeJS.ErrnoException).code === 'ENOENT') throw new XsError('E_NOT_FOUND', `the key file ${file} does not exist`, { path: file, cause: er })
    throw new XsError('E_KEYRING', `cannot read the key file ${file}: ${(er as Error).message}`, { path: file, cause: er })
  }
}
