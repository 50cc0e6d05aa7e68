import { spawnSync } from 'node:child_process'

export interface PullResult {
  status: number | null
  stderr: string
}

/**
 * Pull like a laptop: `fakeroot -s STATE -- rsync -aH --numeric-ids
 * rsync://127.0.0.1:PORT/MODULE/ DEST/` (MODULE may hold a path: build-44/root).
 * The client's ownership lands in STATE, default DEST.state (read it back
 * with dumpTree(dest, state)).
 */
export const pullBuild = (port: number, module: string, dest: string, state = `${dest}.state`, extra: string[] = []): PullResult => {
  const r = spawnSync('fakeroot', ['-s', state, '--', 'rsync', '-aH', '--numeric-ids', '--timeout=60', ...extra,
    `rsync://127.0.0.1:${port}/${module}/`, `${dest}/`], { encoding: 'utf8', timeout: 180_000 })
  return { status: r.status, stderr: r.stderr + (r.error === undefined ? '' : String(r.error)) }
}

/** Module names the daemon lists (`rsync rsync://127.0.0.1:PORT/`). */
export const listModules = (port: number): string[] => {
  const r = spawnSync('rsync', ['--timeout=30', `rsync://127.0.0.1:${port}/`], { encoding: 'utf8', timeout: 60_000 })
  if (r.status !== 0) throw new Error(`rsync module list failed (${r.status}): ${r.stderr}`)
  return r.stdout.split('\n').map((l) => l.split(/\s/)[0] ?? '').filter((n) => n !== '')
}
