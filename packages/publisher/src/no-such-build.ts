import { XsError, type XsConfig } from '@xs-rsync/core'
import { listBuilds } from './list-builds.js'

/** "there is no published build NAME", then which builds are published. Pure. */
export const noSuchBuildMessage = (name: string, published: readonly string[], more = ''): string =>
  `there is no published build ${name}${more}; ${published.length === 0 ? 'no builds are published' : `the published builds are ${published.join(', ')}`}`

/** E_NO_BUILD for a NAME that is not published, naming the builds that are. */
export const noSuchBuild = async (config: XsConfig, name: string, more = ''): Promise<XsError> =>
  new XsError('E_NO_BUILD', noSuchBuildMessage(name, (await listBuilds(config)).map((b) => b.name), more), { entry: name })
