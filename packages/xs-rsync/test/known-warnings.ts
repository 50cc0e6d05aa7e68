import t from 'tap'
import { spawnSync } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'
import { isKnownWarning } from '../src/known-warnings.js'

t.test('which warnings are known', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['ExperimentalWarning', 'The Ed25519 Web Crypto API algorithm is an experimental feature and might change at any time', true],
    ['ExperimentalWarning', 'The X25519 Web Crypto API algorithm is an experimental feature and might change at any time', true],
    ['ExperimentalWarning', 'The Fetch API is an experimental feature. This feature could change at any time', false],
    ['DeprecationWarning', 'The Ed25519 Web Crypto API algorithm is deprecated', false],
    ['Warning', 'Possible EventEmitter memory leak detected', false],
  ]
  for (const [name, message, known] of cases) t.equal(isKnownWarning({ name, message }), known, `${name}: ${message}`)
})

// In a real node process: Node's own printer is replaced, the known warning is not printed, any other is.
t.test('a node process prints every warning but the known ones', async (t) => {
  const mod = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'known-warnings.js')).href
  const script = `
    const { hideKnownWarnings } = await import(${JSON.stringify(mod)})
    hideKnownWarnings()
    process.emitWarning('The Ed25519 Web Crypto API algorithm is an experimental feature and might change at any time', 'ExperimentalWarning')
    process.emitWarning('something else entirely', 'ExperimentalWarning')
    process.emitWarning('a leak, perhaps')
  `
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 })
  t.equal(r.status, 0, r.stderr)
  t.notMatch(r.stderr, /Ed25519/, 'the known warning is left out')
  t.match(r.stderr, /\(node:\d+\) ExperimentalWarning: something else entirely\n/, 'another experimental warning is printed')
  t.match(r.stderr, /\(node:\d+\) Warning: a leak, perhaps\n/, 'a plain warning is printed')
  t.equal(r.stderr.match(/\(node:/g)?.length, 2, 'once each')
  // without it, Node prints the known warning: the test above could fail
  const bare = spawnSync(process.execPath, ['-e', `process.emitWarning('The Ed25519 Web Crypto API algorithm is an experimental feature', 'ExperimentalWarning')`], { encoding: 'utf8', timeout: 30_000 })
  t.match(bare.stderr, /ExperimentalWarning: The Ed25519/, 'Node itself prints it')
})
