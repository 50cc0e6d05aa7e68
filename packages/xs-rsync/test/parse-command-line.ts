import t from 'tap'
import { CONFIG_KEYS } from '@xs-rsync/core'
import { parseCommandLine } from '../src/parse-command-line.js'
import { OPTIONS } from '../src/options.js'
import { configOverrides } from '../src/cli.js'

t.test('command lines that parse (table)', async (t) => {
  const cases: [string[], object][] = [
    [[], { positionals: [], values: {} }],
    [['list', '--json'], { command: 'list', positionals: [], values: { json: true } }],
    [['--root', '/s', 'ingest', '/dev/sdb1'], { command: 'ingest', positionals: ['/dev/sdb1'], values: { root: '/s' } }],
    [['ingest', '--reserve=2G', '--', '-odd-name'], { command: 'ingest', positionals: ['-odd-name'], values: { reserve: '2G' } }],
    [['-V'], { positionals: [], values: { version: true } }],
    [['help', 'ingest'], { command: 'help', positionals: ['ingest'], values: {} }],
    [['serve', '-q', '--port', '8730'], { command: 'serve', positionals: [], values: { quiet: true, port: '8730' } }],
  ]
  for (const [args, want] of cases) t.same(parseCommandLine(args), want, args.join(' '))
})

t.test('mistakes: E_USAGE in our words, with a suggestion when one is close (table)', async (t) => {
  const cases: [string[], RegExp][] = [
    [['lsit'], /^unknown command "lsit" \(did you mean "list"\?\)$/],
    [['frobnicate'], /^unknown command "frobnicate"$/],
    // words from other tools: spelling would not find them
    [['history'], /^unknown command "history" \(did you mean "status"\? xs-rsync status: show the jobs in progress, the history of the last 50 ingests and jobs, and the builds\)$/],
    [['rm', 'b1'], /^unknown command "rm" \(did you mean "remove"\? xs-rsync remove: stop serving builds/],
    [['Delete'], /^unknown command "Delete" \(did you mean "remove"\?/],
    [['check'], /^unknown command "check" \(did you mean "verify"\? xs-rsync verify: check published trees/],
    [['ls'], /^unknown command "ls" \(did you mean "list"\? xs-rsync list: list the published builds\)$/],
    [['list', '--jsn'], /^unknown option "--jsn" for "xs-rsync list" \(did you mean "--json"\?\)$/],
    [['ingest', '--reserv', '1G', '/x'], /^unknown option "--reserv" for "xs-rsync ingest" \(did you mean "--reserve"\?\)$/],
    [['list', '--zzzzzz'], /^unknown option "--zzzzzz" for "xs-rsync list"$/],
    [['-v'], /^unknown option "-v" for "xs-rsync" \(did you mean "-V" \(--version\)\?\)$/],
    [['list', '--port', '1'], /^option "--port" does not apply to "list"; it is for "serve"$/],
    [['serve', '--port'], /^option "--port" needs a value: --port PORT$/],
    [['list', '--json=yes'], /^option "--json" takes no value/],
  ]
  for (const [args, re] of cases) {
    const er = (() => { try { parseCommandLine(args); return undefined } catch (e) { return e as { code: string, message: string } } })()
    t.equal(er?.code, 'E_USAGE', args.join(' '))
    t.match(er?.message ?? '', re, args.join(' '))
    // never Node's own wording ("Unknown option '--jsn'. To specify a positional argument ...")
    t.notMatch(er?.message ?? '', /To specify a positional|ERR_PARSE_ARGS|Unknown option '/, args.join(' '))
  }
})

t.test('every config file key is also a flag, with the same name, that sets that key', async (t) => {
  // a value each flag accepts; a new config key needs one here (and a flag in options.ts)
  const samples: Record<string, string | true> = {
    root: '/srv/xs', 'rsyncd-conf': '/etc/x.conf', 'rsyncd-template': '/etc/x.conf.in', backend: 'fakeroot',
    keyring: '/etc/k', security: 'permissive', 'syslog-socket': '/run/log', reserve: '1G', 'mount-base': '/mnt/xs', 'allow-sha1': true,
  }
  for (const [key, field] of Object.entries(CONFIG_KEYS)) {
    t.ok(Object.hasOwn(OPTIONS, key), `--${key} exists`)
    const sample = samples[key]
    if (sample === undefined) {
      t.fail(`no sample value for --${key} in this test`)
      continue
    }
    const args = sample === true ? [`--${key}`] : [`--${key}`, sample]
    const { values } = parseCommandLine(args)
    t.ok(Object.hasOwn(configOverrides(values), field), `--${key} sets ${field}`)
  }
})

t.test('every word from other tools names a command, and none is a command itself', async (t) => {
  const { COMMANDS, OTHER_TOOLS_WORDS } = await import('../src/commands.js')
  for (const [word, command] of Object.entries(OTHER_TOOLS_WORDS)) {
    t.ok(Object.hasOwn(COMMANDS, command), `${word} -> ${command}`)
    t.notOk(Object.hasOwn(COMMANDS, word), `${word} is not a command`)
  }
})
