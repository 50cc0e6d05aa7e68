import { execFileSync } from 'node:child_process'

/** Node has no mkfifo: use the coreutils one. */
export const mkfifoSync = (path: string): void => { execFileSync('mkfifo', [path]) }
