#!/usr/bin/env node
// Copy the runtime closure of the xs-rsync package into DEST, as an installed
// package folder: DEST/{package.json,bin,dist,share} and DEST/node_modules/
// holding the workspace packages and every third-party runtime dependency
// (found the way Node resolves them, from the repository's node_modules, so
// no registry is asked). Optional dependencies (the native usb and drivelist
// modules of `watch`) are left out. Only what runs is copied: .js/.cjs/.mjs/
// .json files, package.json and license files; no .d.ts, source maps or tests.
// Prints one line per bundled third-party module: "NAME<TAB>LICENSE<TAB>COPYRIGHT".
//
// usage: node scripts/bundle-runtime-deps.mjs REPO DEST
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'

const [repo, dest] = process.argv.slice(2)
if (repo === undefined || dest === undefined) {
  console.error('usage: bundle-runtime-deps.mjs REPO DEST')
  process.exit(2)
}
const RUNTIME_FILE = /\.(c|m)?js$|\.json$/
const LICENSE_FILE = /^(licen[cs]e|copying|notice)(\.|$)/i
const SKIP_DIR = new Set(['test', 'tests', '__tests__', 'example', 'examples', 'docs', '.github', 'benchmark', 'bench'])

const readPkg = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))

/** Copy a package folder's runtime files. `keepSrc`: workspace packages ship dist/ only, others keep their layout. */
const copyPackage = (from, to, { workspace }) => {
  const walk = (dir, rel) => {
    for (const name of readdirSync(dir)) {
      const src = join(dir, name)
      const r = rel === '' ? name : `${rel}/${name}`
      const st = statSync(src)
      if (st.isDirectory()) {
        if (name === 'node_modules') continue
        if (workspace ? !(rel === '' ? ['dist', 'bin', 'share'].includes(name) : true) : (SKIP_DIR.has(name) && rel === '')) continue
        walk(src, r)
      } else if (st.isFile()) {
        const keep = rel === '' && (name === 'package.json' || LICENSE_FILE.test(name)) ||
          (RUNTIME_FILE.test(name) && !name.endsWith('.d.ts') && name !== 'tsconfig.json' && name !== 'package-lock.json') ||
          (workspace && rel.startsWith('share'))
        if (!keep) continue
        mkdirSync(join(to, rel), { recursive: true })
        cpSync(src, join(to, r))
      }
    }
  }
  walk(from, '')
}

/** Where Node would find `name` when required from `fromDir`. */
const resolvePkg = (name, fromDir) => {
  for (let d = fromDir; ; d = dirname(d)) {
    const c = join(d, 'node_modules', name)
    if (existsSync(join(c, 'package.json'))) return c
    if (dirname(d) === d) throw new Error(`cannot find ${name} from ${fromDir}`)
  }
}

const licenses = []
const top = join(repo, 'packages', 'xs-rsync')
copyPackage(top, dest, { workspace: true })
const seen = new Map() // real path -> dest path
const queue = [{ dir: top, destDir: dest }]
while (queue.length > 0) {
  const { dir, destDir } = queue.shift()
  const pkg = readPkg(dir)
  for (const name of Object.keys(pkg.dependencies ?? {})) {
    const found = resolvePkg(name, dir)
    const real = realpathSync(found)
    // The folder it goes to mirrors where it was found relative to the requiring package:
    // hoisted ones go to DEST/node_modules, nested ones stay nested.
    const isWorkspace = !real.includes(`${'/'}node_modules${'/'}`)
    const rel = relative(join(repo, 'node_modules'), found)
    const to = isWorkspace || !rel.startsWith('..')
      ? join(dest, 'node_modules', isWorkspace ? name : rel)
      : join(destDir, relative(dir, found))
    if (seen.has(real)) continue
    seen.set(real, to)
    copyPackage(real, to, { workspace: isWorkspace })
    if (!isWorkspace) {
      const p = readPkg(real)
      const lic = readdirSync(real).find((n) => LICENSE_FILE.test(n))
      const text = lic === undefined ? '' : readFileSync(join(real, lic), 'utf8')
      const line = text.split('\n').map((l) => l.trim()).find((l) => /^copyright\s*(\(c\)|©|&copy;)/i.test(l) && !/free software foundation/i.test(l))
      const author = typeof p.author === 'string' ? p.author : p.author?.name
      licenses.push([relative(dest, to), p.license ?? 'UNKNOWN', (line ?? (author !== undefined ? `the authors (${author})` : `the ${basename(to)} authors`)).replace(/&copy;/g, '©')])
    }
    queue.push({ dir: real, destDir: to })
  }
}
for (const l of licenses.sort((a, b) => a[0].localeCompare(b[0]))) console.log(l.join('\t'))
