import { mkdir } from 'node:fs/promises'
import { prepareStick } from '@xs-rsync/agent'
import type { LogFn } from '@xs-rsync/core'
import type { SampleBuildFiles } from './sample-build.js'

/**
 * A stick folder as the NOC prepares it, made by the NOC's own tool
 * (prepareStick, as `xs-rsync prepare-stick`): xs-xobuilds/ with the build
 * files, manifest.sha256 and manifest.sha1, each signed with `secretKey`,
 * read back before it is returned. Returns the xs-xobuilds folder.
 * The stick here is a folder, made first: prepareStick itself never makes
 * the folder it writes to (a mistyped mount point must not fill a disk).
 */
export const writeSampleStick = async (stick: string, builds: SampleBuildFiles[], secretKey: string, log?: LogFn): Promise<string> => {
  await mkdir(stick, { recursive: true })
  return (await prepareStick({ out: stick, builds: builds.map((b) => ({ tarball: b.tarball })), signKey: secretKey, ...(log && { log }) })).dir
}
