import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { CONFIG_KEYS, DEFAULT_CONFIG, DEFAULT_CONFIG_FILE, parseConfigText, XsError, type XsConfig } from '@xs-rsync/core'
import type { CommandContext } from '../command-context.js'
import { applySetup } from '../setup/apply-setup.js'
import { observeSetup } from '../setup/observe-setup.js'
import { renderPlan } from '../setup/render-plan.js'
import { binPath, readSetupAssets } from '../setup/setup-assets.js'
import { pathsToObserve, planSetup, SERVICE_USER } from '../setup/setup-plan.js'
import { setupWarnings } from '../setup/setup-warnings.js'

/**
 * The config setup installs for: the config file already in place (under the
 * prefix), else the shipped one it is about to install; command-line flags win.
 */
const setupConfig = async (ctx: CommandContext, file: string, shipped: string): Promise<XsConfig> => {
  const text = await readFile(file, 'utf8').catch((er: NodeJS.ErrnoException) => {
    if (er.code === 'ENOENT') return undefined
    throw new XsError('E_CONFIG', `cannot read config file ${file}: ${er.message}`, { path: file, cause: er })
  })
  const flags = Object.fromEntries(Object.entries(CONFIG_KEYS)
    .filter(([flag]) => ctx.values[flag] !== undefined).map(([, field]) => [field, ctx.config[field]]))
  return { ...DEFAULT_CONFIG, ...parseConfigText(text ?? shipped, file), ...flags }
}

/**
 * xs-rsync setup [--prefix DIR] [--dry-run]: service user, store folders,
 * config, rsync template, systemd units, udev rule; enable and reload.
 * Idempotent: what is already right is left alone.
 */
export default async function run (ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length > 0) throw new XsError('E_USAGE', 'usage: xs-rsync setup [--prefix DIR] [--dry-run]')
  const prefixArg = ctx.values.prefix
  const prefix = typeof prefixArg === 'string' ? resolve(prefixArg).replace(/\/+$/, '') : ''
  if (typeof prefixArg === 'string' && prefix === '') throw new XsError('E_USAGE', '--prefix / is the running system: leave --prefix out')
  const assets = await readSetupAssets()
  const configFile = typeof ctx.values.config === 'string' ? ctx.values.config : DEFAULT_CONFIG_FILE
  const config = await setupConfig(ctx, prefix + configFile, assets.config)
  const base = { config, configFile, bin: binPath(undefined, prefix), assets, prefix }
  const observed = await observeSetup(pathsToObserve(base), prefix, SERVICE_USER)
  const plan = planSetup({ ...base, observed })
  const warnings = setupWarnings(base)
  if (ctx.values['dry-run'] === true) {
    ctx.out(renderPlan(plan, prefix) + warnings.map((w) => `warn  ${w}\n`).join(''))
    return 0
  }
  for (const w of warnings) ctx.log('warning', `setup: ${w}`)
  if (prefix === '' && process.getuid?.() !== 0) {
    throw new XsError('E_PERMISSION', 'setup changes the system: run it as root (or with --dry-run to see what it would do)')
  }
  await applySetup(plan, { config, prefix, user: SERVICE_USER, log: ctx.log })
  const done = plan.filter((p) => p.status === 'do').length
  ctx.log('notice', done === 0 ? 'setup: everything was already in place' : `setup: done (${done} change${done === 1 ? '' : 's'})`)
  return 0
}
