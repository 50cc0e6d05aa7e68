import { ALIASES, COMMANDS } from './commands.js'
import { OPTIONS } from './options.js'

/** Options that take a file or folder, completed with file names. */
const PATH_ARGS = new Set(['FILE', 'DIR', 'PATH'])

/**
 * A bash completion script for xs-rsync and its old names, rendered from the
 * command and option tables: command names first, then the options that
 * apply to the command typed (as --help lists them). Pure.
 */
export const renderBashCompletion = (): string => {
  const cmds = Object.keys(COMMANDS)
  const optsFor = (c: string): string => Object.entries(OPTIONS)
    .filter(([, o]) => o.commands.includes('*') || o.commands.includes(c))
    .map(([n]) => `--${n}`).join(' ')
  const pathOpts = Object.entries(OPTIONS).filter(([, o]) => o.arg !== undefined && PATH_ARGS.has(o.arg)).map(([n]) => `--${n}`)
  const cases = cmds.map((c) => `    ${c}) opts="${optsFor(c)}" ;;`)
  const aliasCases = Object.entries(ALIASES).map(([a, c]) => `    ${a}) cmd=${c} ;;`)
  return `# bash completion for xs-rsync (generated from its command and option tables)
_xs_rsync() {
  local cur prev cmd="" opts i
  cur=\${COMP_WORDS[COMP_CWORD]}
  prev=\${COMP_WORDS[COMP_CWORD-1]}
  case \${COMP_WORDS[0]##*/} in
${aliasCases.join('\n')}
  esac
  case $prev in
    ${pathOpts.join('|')}) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
  esac
  if [ -z "$cmd" ]; then
    for ((i = 1; i < COMP_CWORD; i++)); do
      case \${COMP_WORDS[i]} in -*) ;; *) cmd=\${COMP_WORDS[i]}; break ;; esac
    done
  fi
  if [ -z "$cmd" ] && [[ $cur != -* ]]; then
    COMPREPLY=( $(compgen -W "${cmds.join(' ')}" -- "$cur") ); return
  fi
  case $cmd in
${cases.join('\n')}
    *) opts="${optsFor('')}" ;;
  esac
  if [[ $cur == -* ]]; then COMPREPLY=( $(compgen -W "$opts" -- "$cur") ); else COMPREPLY=( $(compgen -f -- "$cur") ); fi
}
complete -F _xs_rsync xs-rsync ${Object.keys(ALIASES).join(' ')}
`
}
