// The exit codes are listed in four places that must say the same:
// packages/core/src/error-codes.ts (the source), the README's tables,
// docs/admin-guide.md's troubleshooting table, and every --help.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { adviceFor, ERROR_TABLE, type ErrorInfo } from '@xs-rsync/core'
import { COMMANDS } from '../packages/xs-rsync/src/commands.js'
import { renderHelp } from '../packages/xs-rsync/src/help.js'
import { XS_BIN } from './lib/xs-cli.js'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const read = (rel: string): string => readFileSync(join(REPO, rel), 'utf8')
const table = Object.entries(ERROR_TABLE) as [string, ErrorInfo][]

/** The rows of the markdown table whose header line is `header`, as cells. */
const markdownTable = (text: string, header: string): string[][] => {
  const lines = text.split('\n')
  const at = lines.indexOf(header)
  if (at < 0) return []
  const rows: string[][] = []
  for (const line of lines.slice(at + 2)) {
    if (!line.startsWith('|')) break
    rows.push(line.slice(1, -1).split(' | ').map((c) => c.trim()))
  }
  return rows
}

t.test('README: the exit code table is the error table, row for row', async (t) => {
  const rows = markdownTable(read('README.md'), '| exit | code | what it means | what to do |')
  t.same(rows, [['0', '—', 'success', '—'], ...table.map(([code, i]) => [String(i.exit), `\`${code}\``, i.summary, i.advice])])
})

t.test('README: the NOC table gives the advice the NOC commands print', async (t) => {
  const rows = markdownTable(read('README.md'), '| exit | code | what to do at the NOC |')
  t.same(rows, table.filter(([, i]) => i.noc !== undefined).map(([code, i]) => [String(i.exit), `\`${code}\``, i.noc]))
})

t.test('admin guide: the troubleshooting table has every code, its exit status and words', async (t) => {
  const rows = markdownTable(read('docs/admin-guide.md'), '| exit | code | the log says | what to do |')
  t.same(rows.map((r) => r.slice(0, 3)), table.map(([code, i]) => [String(i.exit), `\`${code}\``, i.summary]))
  for (const r of rows) t.ok((r[3] ?? '').length > 20, `${r[1]}: says what to do`)
})

const helpCodes = (help: string): string[][] =>
  [...help.matchAll(/^ {2}([ \d]{3}) {2}(E_[A-Z_]+) +(.+)$/gm)].map((m) => [(m[1] ?? '').trim(), m[2] ?? '', m[3] ?? ''])

t.test('every --help lists the exit codes as the table does', async (t) => {
  const want = table.map(([code, i]) => [String(i.exit), code, i.summary])
  for (const command of [undefined, ...Object.keys(COMMANDS)]) t.same(helpCodes(renderHelp(command)), want, command ?? 'xs-rsync --help')
  // and the CLI prints that help
  const r = spawnSync(process.execPath, [XS_BIN, 'help', 'prepare-stick'], { encoding: 'utf8', timeout: 60_000 })
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout, renderHelp('prepare-stick'))
})

t.test('NOC advice is written for the NOC operator', async (t) => {
  for (const [code] of table) {
    const a = adviceFor(code as keyof typeof ERROR_TABLE, 'noc')
    t.notMatch(a, /ask the NOC|to the NOC|plug the stick in|the server|\/var\/log/i, `${code}: ${a}`)
  }
})
