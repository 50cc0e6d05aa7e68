// Prints a short list of what failed in a tap run, from its saved TAP stream:
// each "not ok" line (top-level test files and every subtest under them) with the
// few lines of its diagnostic that say why (the message, found/wanted, diff).
// Kept short (at most MAX_LINES lines) so that it fits in the tail of a CI log.
import { readFileSync } from 'node:fs'

const MAX_LINES = 60
const WIDTH = 600
const DIAG_LINES = 8
// Diagnostic keys worth showing; "at", "stack" and "source" are long and say where, not why.
const SKIP_KEYS = new Set(['at', 'stack', 'source', 'stdio', 'cwd', 'command', 'args', 'env', 'externalID', 'tapCaught', 'test', 'compare', 'jobId', 'isToplevel', 'expired', 'handles', 'events'])

const file = process.argv[2] ?? '.tap/last-run.tap'
const lines = readFileSync(file, 'utf8').split('\n')
const out = []
const cut = (s) => (s.length > WIDTH ? `${s.slice(0, WIDTH - 3)}...` : s)

for (let i = 0; i < lines.length; i++) {
  const m = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i])
  if (m === null) continue
  const indent = m[1].length
  out.push(cut(`${' '.repeat(indent)}not ok - ${m[2]}`))
  // Its diagnostic, if any, is a YAML block "---" ... "..." indented two more spaces.
  if (lines[i + 1]?.trim() !== '---') continue
  const pad = indent + 2
  let shown = 0
  let skipping = false
  for (let j = i + 2; j < lines.length && shown < DIAG_LINES; j++) {
    const line = lines[j]
    if (line.trim() === '...') break
    const key = /^(\s*)([A-Za-z]+):/.exec(line)
    if (key !== null && key[1].length === pad) skipping = SKIP_KEYS.has(key[2])
    if (skipping) continue
    out.push(cut(`${' '.repeat(indent + 4)}${line.trim()}`))
    shown++
  }
}

if (out.length === 0) {
  console.log('# tap failed, but its output has no "not ok" line: look above for a crash or timeout.')
} else {
  const shown = out.slice(0, MAX_LINES)
  console.log(`# What failed (${out.length > MAX_LINES ? `first ${MAX_LINES} of ${out.length} lines` : 'every line'}; the full stream is above and in ${file}):`)
  for (const l of shown) console.log(`# ${l}`)
}
