// Property-based tests (fast-check) of the pure gatekeepers a hostile stick or
// archive talks to: the manifest parser, the build NAME check, the entry-path
// check and the rsyncd.conf renderer. Bounded runs so CI stays fast; a failing
// property prints its seed and shrunk counterexample. The seed is fixed, so a
// CI run is repeatable; XS_PROPERTY_SEED=N tries other inputs (and replays them).
import t from 'tap'
import fc from 'fast-check'
import { posix } from 'node:path'
import { XsError } from '@xs-rsync/core'
import { badEntryName, parseManifest } from '../../packages/agent/src/manifest.js'
import { checkBuildName, isBuildName } from '../../packages/publisher/src/build-name.js'
import { normalizeEntryPath } from '../../packages/publisher/src/entry-path.js'
import { renderRsyncdConf } from '../../packages/publisher/src/render-rsyncd-conf.js'

const seed = Number(process.env.XS_PROPERTY_SEED ?? 20261204)
if (!Number.isSafeInteger(seed)) throw new Error(`XS_PROPERTY_SEED must be an integer, not ${JSON.stringify(process.env.XS_PROPERTY_SEED)}`)
const runs = (numRuns: number): { numRuns: number, seed: number } => ({ numRuns, seed })
const RUNS = runs(400)
t.comment(`fast-check seed ${seed}`)

/** Runs `fn`; returns its value, or the XsError code it threw (anything else is re-thrown). */
const outcome = <T>(fn: () => T): { ok: T } | { code: string } => {
  try {
    return { ok: fn() }
  } catch (er) {
    if (er instanceof XsError) return { code: er.code }
    throw er
  }
}

// Strings rich in the characters attackers use: separators, dots, control
// chars, CR/LF, brackets and `=` (rsync config), backslashes, look-alikes.
const nasty = fc.constantFrom('/', '.', '..', '\\', '\0', '\n', '\r', '\t', ' ', ']', '[', '=', '#', ';', '*', 'a', 'Z', '0', '-', '_',
  '\u2215', '\uff0f', '\u2024', 'é', '\u007f', '\u001b')
const nastyString = fc.oneof(
  fc.array(nasty, { maxLength: 12 }).map((a) => a.join('')),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 70 }),
)

t.test('manifest parser', async (t) => {
  const hex = (n: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: n, maxLength: n })
  const plainName = fc.oneof(nastyString, fc.string({ minLength: 1, maxLength: 30 })).filter((n) => badEntryName(n) === undefined)

  t.test('sha1sum/sha256sum output of plain names parses back exactly (any case, * marker, CRLF, last newline or not)', async (t) => {
    for (const algo of ['sha1', 'sha256'] as const) {
      fc.assert(fc.property(
        fc.uniqueArray(fc.record({ name: plainName, hash: hex(algo === 'sha1' ? 40 : 64), star: fc.boolean() }), { minLength: 1, maxLength: 8, selector: (e) => e.name }),
        fc.constantFrom('\n', '\r\n'), fc.boolean(), fc.boolean(),
        (entries, eol, finalEol, asBytes) => {
          const text = entries.map((e) => `${e.hash}${e.star ? ' *' : '  '}${e.name}`).join(eol) + (finalEol ? eol : '')
          const got = parseManifest(asBytes ? Buffer.from(text) : text, algo, 'm')
          return JSON.stringify(got) === JSON.stringify(entries.map((e) => ({ name: e.name, hash: e.hash.toLowerCase() })))
        }), RUNS)
    }
    t.pass('round trip holds')
  })

  t.test('any input: entries that are plain, unique, well-formed, or E_MANIFEST; never another error', async (t) => {
    const line = fc.oneof(nastyString, fc.tuple(hex(40), fc.constantFrom('  ', ' *', ' ', '\t'), nastyString).map((p) => p.join('')))
    fc.assert(fc.property(fc.oneof(
      fc.array(line, { maxLength: 6 }).map((ls) => ls.join('\n')),
      fc.uint8Array({ maxLength: 200 }),
    ), (input) => {
      const r = outcome(() => parseManifest(input, 'sha1', 'm'))
      if ('code' in r) return r.code === 'E_MANIFEST'
      const names = r.ok.map((e) => e.name)
      return r.ok.length > 0 && new Set(names).size === names.length &&
        r.ok.every((e) => badEntryName(e.name) === undefined && /^[0-9a-f]{40}$/.test(e.hash) && !/[/\\\0-\x1f\x7f]/.test(e.name))
    }), runs(1000))
    t.pass('holds')
  })

  t.test('a name listed twice (any hash, any marker) refuses the whole manifest', async (t) => {
    fc.assert(fc.property(fc.uniqueArray(plainName, { minLength: 1, maxLength: 6 }), fc.nat(), hex(40), fc.boolean(), (names, i, hash, star) => {
      const twice = names[i % names.length] as string
      const text = [...names.map((n) => `${'a'.repeat(40)}  ${n}`), `${hash}${star ? ' *' : '  '}${twice}`].join('\n') + '\n'
      const r = outcome(() => parseManifest(text, 'sha1', 'm'))
      return 'code' in r && r.code === 'E_MANIFEST'
    }), RUNS)
    t.pass('holds')
  })

  t.test('a name with a path or a control character anywhere refuses the whole manifest', async (t) => {
    fc.assert(fc.property(plainName, plainName, fc.constantFrom('/', '\\', '\0', '\x1b', '\x7f', '\r'), fc.nat(3),
      (a, b, bad, where) => {
        fc.pre(!(bad === '\r' && where === 1)) // a CR that ends the line is a CRLF line end, not part of the name
        const evil = [bad + a, a + bad, a + bad + b, `..${bad}${a}`][where] as string
        const text = `${'1'.repeat(40)}  ${b}x\n${'2'.repeat(40)}  ${evil}\n`
        const r = outcome(() => parseManifest(text, 'sha1', 'm'))
        return 'code' in r && r.code === 'E_MANIFEST'
      }), RUNS)
    t.pass('holds')
  })
})

t.test('build NAME check', async (t) => {
  t.test('any string: accepted names are short, plain and cannot break a config line or a path', async (t) => {
    fc.assert(fc.property(nastyString, (s) => {
      const r = outcome(() => checkBuildName(s, 'x.name'))
      if ('code' in r) return r.code === 'E_BUILD_NAME' && !isBuildName(s)
      return r.ok === s && isBuildName(s) && s.length >= 1 && s.length <= 64 && !s.startsWith('.') && !s.includes('..') &&
        /^[A-Za-z0-9._-]+$/.test(s) && posix.basename(s) === s
    }), runs(2000))
    t.pass('holds')
  })

  t.test('every name of the allowed alphabet without ".." is accepted', async (t) => {
    const alnum = fc.constantFrom(...'abcXYZ019')
    fc.assert(fc.property(alnum, fc.array(fc.constantFrom(...'aZ9._-'), { maxLength: 63 }), (first, rest) => {
      const s = first + rest.join('')
      return isBuildName(s) === !s.includes('..')
    }), RUNS)
    t.pass('holds')
  })
})

t.test('entry-path check', async (t) => {
  const limits = { maxPathBytes: 4096, maxDepth: 256 }
  const component = fc.oneof(
    fc.constantFrom('', '.', '..', '...', 'a', 'etc', '\\', '..\\..', '\u2215..', '\uff0e\uff0e', 'x\ty', 'x\ny', 'x\0', '\x1b[2J', ' '),
    fc.string({ unit: 'binary-ascii', maxLength: 8 }),
  )
  const entryName = fc.tuple(fc.constantFrom('', './', '/', '//', '././'), fc.array(component, { maxLength: 8 }), fc.constantFrom('', '/'))
    .map(([head, parts, tail]) => head + parts.join('/') + tail)

  t.test('either E_ARCHIVE_UNSAFE or a clean relative path that stays inside the tree', async (t) => {
    fc.assert(fc.property(fc.oneof(entryName, nastyString), (name) => {
      const r = outcome(() => normalizeEntryPath(name, limits))
      if ('code' in r) return r.code === 'E_ARCHIVE_UNSAFE'
      const rel = r.ok
      const inside = posix.resolve('/dest', rel)
      return (inside === '/dest' || inside.startsWith('/dest/')) && posix.relative('/dest', inside) === rel &&
        !rel.startsWith('/') && !rel.split('/').some((c) => c === '..' || c === '.' || (c === '' && rel !== '')) &&
        !/[\0-\x08\x0b-\x1f\x7f]/.test(rel) && normalizeEntryPath(rel, limits) === rel
    }), runs(2000))
    t.pass('holds')
  })

  t.test('absolute names and any ".." component are always refused', async (t) => {
    fc.assert(fc.property(fc.array(component, { maxLength: 6 }), fc.array(component, { maxLength: 6 }), fc.boolean(), (pre, post, abs) => {
      const name = abs ? '/' + [...pre, 'x'].join('/') : [...pre, '..', ...post].join('/')
      const r = outcome(() => normalizeEntryPath(name, limits))
      return 'code' in r && r.code === 'E_ARCHIVE_UNSAFE'
    }), RUNS)
    t.pass('holds')
  })

  t.test('depth and length bounds hold', async (t) => {
    fc.assert(fc.property(fc.array(fc.constantFrom('a', 'bb', 'ccc'), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 60 }),
      (parts, maxDepth, maxPathBytes) => {
        const r = outcome(() => normalizeEntryPath(parts.join('/'), { maxDepth, maxPathBytes }))
        const fits = parts.length <= maxDepth && parts.join('/').length <= maxPathBytes
        return fits ? 'ok' in r : 'code' in r && r.code === 'E_ARCHIVE_UNSAFE'
      }), RUNS)
    t.pass('holds')
  })
})

t.test('rsyncd.conf renderer', async (t) => {
  /** What rsync would read: modules with their parameters; every line must be a comment, blank, [module] or key = value, with nothing rsync rewrites. */
  const parseConf = (text: string): { modules: Map<string, Map<string, string>>, bad: string[] } => {
    const modules = new Map<string, Map<string, string>>()
    const bad: string[] = []
    let cur: Map<string, string> | undefined
    for (const raw of text.split('\n')) {
      const line = raw.trim()
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
      // rsync joins a line ending in a backslash to the next and expands %VAR%: such a line would not say what was meant
      if (line.endsWith('\\') || line.includes('%')) { bad.push(line); continue }
      const sec = /^\[([^\]]*)\]$/.exec(line)
      if (sec !== null) {
        if (modules.has(sec[1] as string)) bad.push(`module twice: ${line}`)
        cur = new Map()
        modules.set(sec[1] as string, cur)
        continue
      }
      const kv = /^([a-z ]+?)\s*=\s*(.*)$/.exec(line)
      if (kv === null) bad.push(line)
      else if (cur !== undefined) cur.set(kv[1] as string, kv[2] as string)
    }
    return { modules, bad }
  }
  const goodName = fc.tuple(fc.constantFrom(...'aZ09'), fc.array(fc.constantFrom(...'aZ09._-'), { maxLength: 20 }))
    .map(([a, b]) => a + b.join('')).filter(isBuildName)
  const anyName = fc.oneof({ weight: 2, arbitrary: goodName }, { weight: 1, arbitrary: nastyString })
  const text = fc.oneof(fc.constantFrom('/srv/xs', 'OS build 44', '/a b/c'), nastyString)

  t.test('any builds: exactly one [build-NAME] per build with its path and nothing else; or a refusal', async (t) => {
    fc.assert(fc.property(
      fc.array(fc.record({ name: anyName, path: text, comment: fc.option(text, { nil: undefined }) }), { maxLength: 6 }),
      fc.oneof(fc.constant('/srv/xs-store'), text), fc.constantFrom('fake-super', 'fakeroot') as fc.Arbitrary<'fake-super' | 'fakeroot'>,
      (builds, root, backend) => {
        const r = outcome(() => renderRsyncdConf({ builds, root, backend, uid: 1000 }))
        if ('code' in r) return r.code === 'E_BUILD_NAME' || r.code === 'E_CONFIG'
        const { modules, bad } = parseConf(r.ok)
        const want = builds.map((b) => `build-${b.name}`).sort()
        return bad.length === 0 && JSON.stringify([...modules.keys()].sort()) === JSON.stringify(want) &&
          builds.every((b) => {
            const m = modules.get(`build-${b.name}`)
            return m?.get('path') === b.path && m.get('read only') === 'yes' && (backend === 'fakeroot' || m.get('fake super') === 'yes') &&
              m.size === (backend === 'fake-super' ? 4 : 3)
          })
      }), runs(1000))
    t.pass('holds')
  })

  t.test('a hostile NAME never reaches the config', async (t) => {
    fc.assert(fc.property(fc.constantFrom(']', '\n', '[', ' ', '/', '=', '#'), goodName, goodName, (bad, a, b) => {
      const r = outcome(() => renderRsyncdConf({ builds: [{ name: `${a}${bad}${b}`, path: '/p' }], root: '/r', backend: 'fake-super', uid: 0 }))
      return 'code' in r && r.code === 'E_BUILD_NAME'
    }), RUNS)
    t.pass('holds')
  })
})
