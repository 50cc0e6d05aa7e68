import { adviceFor, ERROR_TABLE, type Audience, type ErrorCode, isErrorCode } from './error-codes.js'

export interface XsErrorData {
  /** The file or device the error is about. */
  path?: string
  /** The archive entry or manifest line the error is about. */
  entry?: string
  expected?: string | number
  actual?: string | number
  cause?: unknown
  /** What to do, when the code's general advice does not fit this case (e.g. a key, not a file, is missing). */
  advice?: string
}

/**
 * The one error class of xs-rsync. `code` is stable (see ERROR_TABLE); the
 * message names the file and the reason.
 */
export class XsError extends Error {
  readonly code: ErrorCode
  readonly path?: string
  readonly entry?: string
  readonly expected?: string | number
  readonly actual?: string | number
  readonly advice?: string

  constructor (code: ErrorCode, message: string, data: XsErrorData = {}) {
    super(message, data.cause === undefined ? undefined : { cause: data.cause })
    this.code = code
    if (data.path !== undefined) this.path = data.path
    if (data.entry !== undefined) this.entry = data.entry
    if (data.expected !== undefined) this.expected = data.expected
    if (data.actual !== undefined) this.actual = data.actual
    if (data.advice !== undefined) this.advice = data.advice
  }

  override get name (): string {
    return 'XsError'
  }

  get exitCode (): number {
    return ERROR_TABLE[this.code].exit
  }
}

/** Any thrown value, as an XsError (system errors keep their errno in the cause). */
export const toXsError = (er: unknown): XsError => {
  if (er instanceof XsError) return er
  const e = er as NodeJS.ErrnoException | undefined
  const errno = e?.code
  const path = typeof e?.path === 'string' ? e.path : undefined
  const msg = e instanceof Error ? e.message : String(er)
  if (isErrorCode(errno)) return new XsError(errno, msg, { cause: er })
  const code: ErrorCode =
    (errno === 'EACCES' || errno === 'EPERM') && process.getuid?.() !== 0 ? 'E_PERMISSION'
    : errno === 'ENOSPC' || errno === 'EDQUOT' ? 'E_NO_SPACE'
      : errno === 'ENOENT' ? 'E_NOT_FOUND'
        : errno === 'EIO' || errno === 'ENXIO' || errno === 'ENODEV' ? 'E_IO'
          : typeof errno === 'string' && errno.startsWith('E') && errno.length < 16 ? 'E_IO'
            : 'E_INTERNAL'
  return new XsError(code, msg, path === undefined ? { cause: er } : { path, cause: er })
}

/** The line a person reads when a job fails; the advice is written for `audience`. */
export const describeError = (er: XsError, audience: Audience = 'school'): string =>
  `${ERROR_TABLE[er.code].summary}: ${er.message.replace(/\.+$/, '')}. ${er.advice ?? adviceFor(er.code, audience)}`
