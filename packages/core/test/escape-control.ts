import t from 'tap'
import { escapeControl } from '../src/escape-control.js'

t.test('escapeControl: controls become visible escapes, text and newlines stay', async (t) => {
  const cases: [string, string, string][] = [
    ['plain text', 'os45-tree.tar.bz2', 'os45-tree.tar.bz2'],
    ['newline kept (the sinks indent the next line)', 'a\nb', 'a\nb'],
    ['tab kept', 'a\tb', 'a\tb'],
    ['carriage return (would overwrite the line on a terminal)', 'x\rDONE: fake', 'x\\u000dDONE: fake'],
    ['ANSI erase line and cursor up', '\u001b[1A\u001b[2K', '\\u001b[1A\\u001b[2K'],
    ['backspace', 'ab\bc', 'ab\\u0008c'],
    ['NUL', 'a\u0000b', 'a\\u0000b'],
    ['DEL', 'a\u007fb', 'a\\u007fb'],
    ['C1 CSI', 'a\u009b2Kb', 'a\\u009b2Kb'],
    ['Unicode line separator', 'a\u2028DONE', 'a\\u2028DONE'],
    ['bidi override', 'evil\u202Egnp.exe', 'evil\\u202egnp.exe'],
    ['bidi isolate', '\u2066x\u2069', '\\u2066x\\u2069'],
    ['non-ASCII letters stay', 'école ß 日本', 'école ß 日本'],
  ]
  for (const [what, input, want] of cases) t.equal(escapeControl(input), want, what)
})

t.test('escapeControl output inside a JSON string parses back to the escaped text', async (t) => {
  const s = escapeControl('a\u001bb\u009bc')
  t.equal(JSON.parse(`"${s}"`), 'a\u001bb\u009bc')
})
