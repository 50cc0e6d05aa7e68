import { readFileSync } from 'node:fs'
import { parseMountInfo, type MountEntry } from './mount-info.js'

/**
 * The mounts this process sees, from /proc/self/mountinfo, read whole.
 *
 * Read synchronously on purpose: on Node 18 (Debian 12's nodejs 18.20.4)
 * `fs.promises.readFile` of a procfs file stops after the first short read,
 * and the kernel hands out mountinfo a page at a time. Inside a systemd
 * service with its own mount namespace the file is longer than a page, so
 * the newest mounts (the stick just mounted) were cut off: ingest said
 * "mount reported success but ... is not mounted". The synchronous read
 * loops until end of file. The file is a few KB.
 */
export const readMountInfo = (): MountEntry[] => parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))
