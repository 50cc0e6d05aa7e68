// The product runs on Node 18 (Debian 12's nodejs 18.20.4; Ubuntu 24.04's
// 18.19): no API that came later may appear in product code. A static scan
// of the sources for the ones a Node 20 developer reaches for; the system
// test (test/system/) also runs the installed package on Debian's own Node.
import t from 'tap'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const REPO = join(import.meta.dirname, '..')
const PRODUCT = ['core', 'publisher', 'agent', 'xs-rsync']

/** What is missing from Node 18, with the Node version that brought it. */
export const NEWER_THAN_18: [RegExp, string][] = [
  [/import\.meta\.(dirname|filename)\b/, 'import.meta.dirname/filename (Node 20.11)'],
  [/\bglobSync\b|\bfs(\/promises)?\.glob\b|\bglob\s*\(/, 'fs.glob/globSync (Node 22)'],
  [/\.toSorted\(|\.toReversed\(|\.toSpliced\(|\.with\(\s*-?\d/, 'change-array-by-copy (Node 20)'],
  [/\b(Object|Map)\.groupBy\b/, 'Object/Map.groupBy (Node 21)'],
  [/\bPromise\.withResolvers\b/, 'Promise.withResolvers (Node 22)'],
  [/\bArray\.fromAsync\b/, 'Array.fromAsync (Node 22)'],
  [/\.(isWellFormed|toWellFormed)\(/, 'String well-formed methods (Node 20)'],
  [/\.(union|intersection|symmetricDifference|isSubsetOf|isSupersetOf|isDisjointFrom)\(/, 'Set methods (Node 22)'],
  [/\bstyleText\b/, 'util.styleText (Node 21.7)'],
  [/\bprocess\.getBuiltinModule\b/, 'process.getBuiltinModule (Node 22.3)'],
  [/\bprocess\.loadEnvFile\b/, 'process.loadEnvFile (Node 21.7)'],
  [/\bopenAsBlob\b/, 'fs.openAsBlob (Node 19.8)'],
  [/\bimport\.meta\.resolve\(/, 'synchronous import.meta.resolve (Node 20)'],
  [/\bnavigator\./, 'navigator (Node 21)'],
  [/\bwith\s*\{\s*type\s*:/, 'import attributes "with" (Node 18.20 only warns; use plain JSON reads)'],
  [/\bArrayBuffer\.prototype\.transfer\b|\.transfer\(\)/, 'ArrayBuffer.transfer (Node 21)'],
  // not an API but a behaviour: Node 18's promise readFile stops at the first short read, and
  // procfs hands files out a page at a time (mountinfo inside a service was cut off)
  [/\breadFile\(\s*['"`]\/proc\//, 'fs.promises.readFile of a /proc file (truncated on Node 18: use readFileSync)'],
  [/\bAbortSignal\.any\b(?![\s\S]*18\.17)/, ''],
]

const files = (dir: string): string[] => !existsSync(dir) ? [] : readdirSync(dir).flatMap((n) => {
  const p = join(dir, n)
  return statSync(p).isDirectory() ? files(p) : /\.(ts|js|mjs)$/.test(n) && !n.endsWith('.d.ts') ? [p] : []
})

t.test('product sources use nothing newer than Node 18', async (t) => {
  const hits: string[] = []
  const sources = PRODUCT.flatMap((p) => [...files(join(REPO, 'packages', p, 'src')), ...files(join(REPO, 'packages', p, 'bin'))])
  t.ok(sources.length > 50, `${sources.length} files scanned`)
  for (const f of sources) {
    const lines = readFileSync(f, 'utf8').split('\n')
    lines.forEach((line, i) => {
      if (/^\s*(\/\/|\*)/.test(line)) return
      for (const [re, what] of NEWER_THAN_18) if (what !== '' && re.test(line)) hits.push(`${relative(REPO, f)}:${i + 1}: ${what}: ${line.trim()}`)
    })
  }
  t.same(hits, [], 'Node 18 has none of these')
})

t.test('the scan finds what it looks for', async (t) => {
  for (const [line, what] of [
    ['const here = import.meta.dirname', 'import.meta.dirname'],
    ["const f = fs.globSync('*.ts')", 'glob'],
    ['const s = xs.toSorted()', 'change-array'],
    ['const g = Object.groupBy(xs, f)', 'groupBy'],
    ['const { promise } = Promise.withResolvers()', 'withResolvers'],
    ["const t = await readFile('/proc/self/mountinfo', 'utf8')", 'fs.promises.readFile of a /proc'],
  ] as const) {
    t.ok(NEWER_THAN_18.some(([re, w]) => w !== '' && re.test(line) && w.includes(what.split('.')[0] ?? what)), line)
  }
  t.notOk(NEWER_THAN_18.some(([re, w]) => w !== '' && re.test('const s = [...xs].sort(); const l = xs.findLast((x) => x)')), 'Node 18 APIs pass')
})

t.test('product packages declare Node >= 18', async (t) => {
  for (const p of PRODUCT) {
    const pkg = JSON.parse(readFileSync(join(REPO, 'packages', p, 'package.json'), 'utf8'))
    t.equal(pkg.engines?.node, '>=18', p)
  }
})
