import { ERROR_TABLE } from '@xs-rsync/core'
import { ALIASES, COMMANDS } from './commands.js'
import { OPTIONS } from './options.js'

/** The "Exit status" lines of every --help, from the error table. Pure. */
export const renderExitCodes = (): string[] => {
  const rows = Object.entries(ERROR_TABLE).map(([code, i]) => [String(i.exit), code, i.summary] as const)
  const w = Math.max(...rows.map((r) => r[1].length))
  return [
    'Exit status (what to do: the README, "Exit codes"):',
    `    0  ${'-'.padEnd(w)}  success`,
    ...rows.map(([exit, code, summary]) => `  ${exit.padStart(3)}  ${code.padEnd(w)}  ${summary}`),
  ]
}

/** Render --help from the command and option tables. Pure. */
export const renderHelp = (command?: string): string => {
  const lines: string[] = []
  const info = command === undefined ? undefined : COMMANDS[command]
  if (info === undefined) {
    lines.push('Usage: xs-rsync COMMAND [options]', '', 'Commands:')
    const w = Math.max(...Object.keys(COMMANDS).map((c) => c.length))
    for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(w)}  ${c.summary}`)
    lines.push('', 'Old names: ' + Object.entries(ALIASES).map(([a, c]) => `${a} (= ${c})`).join(', '))
  } else {
    lines.push(`Usage: xs-rsync ${info.usage}`, '', `${info.summary[0]?.toUpperCase()}${info.summary.slice(1)}.`)
  }
  lines.push('', 'Options:')
  const opts = Object.entries(OPTIONS).filter(([, o]) =>
    info === undefined || o.commands.includes('*') || o.commands.includes(command ?? ''))
  const flag = ([name, o]: [string, (typeof OPTIONS)[string]]): string =>
    `${o.short === undefined ? '    ' : `-${o.short}, `}--${name}${o.arg === undefined ? '' : ' ' + o.arg}`
  const w = Math.max(...opts.map((e) => flag(e).length))
  for (const e of opts) {
    const scope = info === undefined && !e[1].commands.includes('*') ? ` [${e[1].commands.join(', ')}]` : ''
    lines.push(`  ${flag(e).padEnd(w)}  ${e[1].help}${scope}`)
  }
  lines.push('', ...renderExitCodes())
  return lines.join('\n') + '\n'
}
