import t from 'tap'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ERROR_TABLE } from '@xs-rsync/core'
import { renderHelp } from '../src/help.js'
import { COMMANDS } from '../src/commands.js'
import { OPTIONS } from '../src/options.js'

const bin = fileURLToPath(new URL('../bin/xs-rsync.js', import.meta.url))
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 })

t.test('help lists every command and every option', async (t) => {
  const h = renderHelp()
  for (const c of Object.keys(COMMANDS)) t.match(h, new RegExp(`^  ${c} `, 'm'), c)
  for (const o of Object.keys(OPTIONS)) t.match(h, `--${o}`, o)
})

t.test('per-command help shows only the options that apply', async (t) => {
  const h = renderHelp('serve')
  t.match(h, /Usage: xs-rsync serve/)
  t.match(h, /--port/)
  t.notMatch(h, /--allow-downgrade/)
})

t.test('usage errors exit with the E_USAGE status and a FAILED line', async (t) => {
  const cases: string[][] = [['no-such-command'], ['list', '--bogus'], ['list', '--port', '1'], ['list', '--backend', 'chroot']]
  for (const args of cases) {
    const r = run(...args)
    t.equal(r.status, ERROR_TABLE.E_USAGE.exit, args.join(' '))
    t.match(r.stderr, /FAILED: wrong command usage/, args.join(' '))
  }
})

t.test('no command prints help and exits 2; --help exits 0', async (t) => {
  t.equal(run().status, 2)
  const r = run('--help')
  t.equal(r.status, 0)
  t.match(r.stdout, /Usage: xs-rsync COMMAND/)
})

t.test('a missing config file named with --config is E_CONFIG', async (t) => {
  const r = run('list', '--config', '/nonexistent/xs-rsync.conf')
  t.equal(r.status, ERROR_TABLE.E_CONFIG.exit)
  t.match(r.stderr, /\/nonexistent\/xs-rsync.conf/)
})
