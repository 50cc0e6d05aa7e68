import { parseArgs } from 'node:util'
import { XsError } from '@xs-rsync/core'
import { COMMANDS, OTHER_TOOLS_WORDS } from './commands.js'
import { OPTIONS } from './options.js'
import { didYouMean } from './did-you-mean.js'
import type { OptionValues } from './command-context.js'

export interface CommandLine {
  /** The first positional (undefined when none was given). */
  command?: string
  positionals: string[]
  values: OptionValues
}

const usage = (msg: string): XsError => new XsError('E_USAGE', msg)

const applies = (name: string, command: string | undefined): boolean => {
  const spec = OPTIONS[name]
  return spec !== undefined && (command === undefined || spec.commands.includes('*') || spec.commands.includes(command))
}

const suggestion = (guess: string | undefined, quote: (s: string) => string): string =>
  guess === undefined ? '' : ` (did you mean ${quote(guess)}?)`

/**
 * The command line (after the program name) as a command, its positionals and
 * its flags, checked against the command and option tables. Every mistake is
 * an E_USAGE in our own words, with a "did you mean" when something is close.
 * Pure.
 */
export const parseCommandLine = (args: string[]): CommandLine => {
  const { values, positionals, tokens } = parseArgs({
    args,
    options: Object.fromEntries(Object.entries(OPTIONS).map(([k, o]) =>
      [k, o.short === undefined ? { type: o.type } : { type: o.type, short: o.short }])),
    allowPositionals: true,
    strict: false,
    tokens: true,
  })
  const [command, ...rest] = positionals
  const known = command === undefined || Object.hasOwn(COMMANDS, command)
  const scope = known && command !== 'help' ? command : undefined
  if (!known) {
    const word = command ?? ''
    const lower = word.toLowerCase()
    const other = Object.hasOwn(OTHER_TOOLS_WORDS, lower) ? OTHER_TOOLS_WORDS[lower] : undefined
    if (other !== undefined) throw usage(`unknown command "${word}" (did you mean "${other}"? xs-rsync ${other}: ${COMMANDS[other]?.summary ?? ''})`)
    throw usage(`unknown command "${word}"${suggestion(didYouMean(word, Object.keys(COMMANDS)), (g) => `"${g}"`)}`)
  }
  const where = scope === undefined ? 'xs-rsync' : `xs-rsync ${scope}`
  for (const tok of tokens) {
    if (tok.kind !== 'option') continue
    const spec = Object.hasOwn(OPTIONS, tok.name) ? OPTIONS[tok.name] : undefined
    if (spec === undefined) {
      const long = tok.rawName.startsWith('--')
      const names = Object.keys(OPTIONS).filter((n) => applies(n, scope))
      const guess = long
        ? didYouMean(tok.name, names)
        : names.find((n) => OPTIONS[n]?.short?.toLowerCase() === tok.name.toLowerCase())
      const shown = (g: string): string => {
        const short = OPTIONS[g]?.short
        return long || short === undefined ? `"--${g}"` : `"-${short}" (--${g})`
      }
      throw usage(`unknown option "${tok.rawName}" for "${where}"${suggestion(guess, shown)}`)
    }
    if (spec.type === 'string' && tok.value === undefined) {
      throw usage(`option "${tok.rawName}" needs a value: --${tok.name} ${spec.arg ?? 'VALUE'}`)
    }
    if (spec.type === 'boolean' && tok.inlineValue === true) {
      throw usage(`option "${tok.rawName}" takes no value (write ${tok.rawName} alone)`)
    }
    if (!applies(tok.name, scope)) {
      const users = spec.commands.map((c) => `"${c}"`).join(', ')
      throw usage(`option "${tok.rawName}" does not apply to "${command ?? ''}"; it is for ${users}`)
    }
  }
  return { ...(command !== undefined && { command }), positionals: rest, values: values as OptionValues }
}
