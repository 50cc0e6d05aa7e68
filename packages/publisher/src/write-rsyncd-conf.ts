import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { atomicWrite, silentLog, XsError, type LogFn, type XsConfig } from '@xs-rsync/core'
import { readBuildRecords } from './build-record.js'
import { isServed } from './list-builds.js'
import { publishLayout } from './publish-layout.js'
import { renderRsyncdConf } from './render-rsyncd-conf.js'
import { writeFakerootState } from './write-fakeroot-state.js'

const readTemplate = async (file: string): Promise<string | undefined> => {
  try {
    return await readFile(file, 'utf8')
  } catch (er) {
    if ((er as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new XsError('E_CONFIG', `cannot read rsync config template ${file}: ${(er as Error).message}`, { path: file, cause: er })
  }
}

/**
 * Regenerate config.rsyncdConf (atomically; left alone when unchanged) with a
 * module for every complete build published with the current backend, and,
 * for the fakeroot backend, ROOT/state/fakeroot.state. The store lock must be
 * held. Builds named in `without` are left out (about to be removed).
 * Returns the names listed.
 */
export const writeRsyncdConfInLock = async (config: XsConfig, log: LogFn = silentLog, without: ReadonlySet<string> = new Set()): Promise<string[]> => {
  const layout = publishLayout(config.root)
  const builds: { name: string, path: string }[] = []
  for (const rec of await readBuildRecords(layout.records)) {
    if (without.has(rec.name)) continue
    if (!(await isServed(layout.builds, layout.trees, rec))) {
      log('warning', `Build ${rec.name} is recorded but its files are missing; not offered (run "xs-rsync refresh")`)
    } else if (rec.backend !== config.backend) {
      log('warning', `Build ${rec.name} was published with the ${rec.backend} backend, now ${config.backend}; not offered until "xs-rsync refresh --force"`)
    } else {
      builds.push({ name: rec.name, path: join(layout.builds, rec.name) })
    }
  }
  if (config.backend === 'fakeroot') await writeFakerootState(layout)
  const text = renderRsyncdConf({
    template: await readTemplate(config.rsyncdTemplate),
    templatePath: config.rsyncdTemplate,
    builds,
    root: config.root,
    backend: config.backend,
    uid: (await stat(config.root)).uid,
  })
  const old = await readFile(config.rsyncdConf, 'utf8').catch(() => undefined)
  if (old !== text) {
    try {
      await atomicWrite(config.rsyncdConf, text, 0o644)
    } catch (er) {
      throw new XsError('E_IO', `cannot write the rsync config ${config.rsyncdConf}: ${(er as Error).message}`, { path: config.rsyncdConf, cause: er })
    }
    log('info', `Wrote ${config.rsyncdConf} (${builds.length === 0 ? 'no builds' : `modules: ${builds.map((b) => `build-${b.name}`).join(', ')}`})`)
  }
  return builds.map((b) => b.name)
}
