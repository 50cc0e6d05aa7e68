import t from 'tap'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ERROR_TABLE } from '@xs-rsync/core'
import { renderHelp } from '../src/help.js'
import { configOverrides } from '../src/cli.js'
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

t.test('a missing config file named with --config is E_NOT_FOUND, like every missing file', async (t) => {
  const r = run('list', '--config', '/nonexistent/xs-rsync.conf')
  t.equal(r.status, ERROR_TABLE.E_NOT_FOUND.exit)
  t.match(r.stderr, /FAILED: file or device not found: config file \/nonexistent\/xs-rsync.conf does not exist/)
})

t.test('xs-rsync help [COMMAND], -V and --version', async (t) => {
  const h = run('help')
  t.equal(h.status, 0)
  t.equal(h.stdout, renderHelp())
  const hi = run('help', 'ingest')
  t.equal(hi.status, 0)
  t.equal(hi.stdout, renderHelp('ingest'))
  const bad = run('help', 'ingets')
  t.equal(bad.status, ERROR_TABLE.E_USAGE.exit)
  t.match(bad.stderr, /unknown command "ingets" \(did you mean "ingest"\?\)/)
  for (const flag of ['-V', '--version']) {
    const v = run(flag)
    t.equal(v.status, 0, flag)
    t.match(v.stdout, /^\d+\.\d+\.\d+\n$/, flag)
  }
})

t.test('an unknown option gets our wording and a suggestion, not Node\'s', async (t) => {
  const r = run('status', '--jsno')
  t.equal(r.status, ERROR_TABLE.E_USAGE.exit)
  t.match(r.stderr, /FAILED: wrong command usage: unknown option "--jsno" for "xs-rsync status" \(did you mean "--json"\?\)\. Run "xs-rsync help COMMAND"/)
  t.notMatch(r.stderr, /To specify a positional argument|ERR_PARSE_ARGS/)
})

t.test('config flags override the config file, checked as flags', async (t) => {
  t.same(configOverrides({ reserve: '2G', 'mount-base': '/mnt/x', json: true }), { reserveBytes: 2 * 1024 ** 3, mountBase: '/mnt/x' })
  t.throws(() => configOverrides({ reserve: 'lots' }), { code: 'E_USAGE', message: '--reserve "lots": must be a size such as 512M or 2G' })
})

t.test('NOC commands give NOC advice; school commands school advice', async (t) => {
  const noc = run('prepare-stick', '--out', '/nonexistent/stick', '/nonexistent/os1-tree.tar.bz2')
  t.equal(noc.status, ERROR_TABLE.E_NOT_FOUND.exit, noc.stderr)
  t.match(noc.stderr, `FAILED: file or device not found: /nonexistent/os1-tree.tar.bz2 does not exist. ${ERROR_TABLE.E_NOT_FOUND.noc}`)
  t.notMatch(noc.stderr, /plug the stick in|ask the NOC/i)
  const gen = run('keys', 'generate', 'N <a@b@c>', '--out', '/nonexistent/k')
  t.equal(gen.status, ERROR_TABLE.E_USAGE.exit, gen.stderr)
  t.notMatch(gen.stderr, /internal error/)
  const school = run('ingest', '--no-syslog', '/nonexistent/stick')
  t.equal(school.status, ERROR_TABLE.E_NOT_FOUND.exit, school.stderr)
  t.match(school.stderr, ERROR_TABLE.E_NOT_FOUND.advice)
})
