import { link, mkdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { atomicWrite, fsyncDir, silentLog, XsError, type LogFn } from '@xs-rsync/core'
import type { PublishLayout } from './publish-layout.js'

/**
 * One build's files moving into xobuilds-packed, journalled in
 * ROOT/state/placing.json so that a run killed half-way (a power cut) never
 * leaves the folder with some new and some old files of a build: the next
 * job finishes the move in the direction the journal says before it does
 * anything else.
 */
export interface Placement {
  /** 'forward': the new files go in; 'back': the older files come back. */
  direction: 'forward' | 'back'
  /** Build NAME (for messages). */
  name: string
  /** Folder (on the store's filesystem) holding the new files until they move. */
  from: string
  /** File names of the new build. */
  mine: string[]
  /** Folder holding a hardlink of each older file. */
  aside: string
  /** File names of the older files this placement replaces. */
  old: string[]
}

const journalPath = (layout: PublishLayout): string => join(layout.state, 'placing.json')

const isNameList = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((n) => typeof n === 'string' && n !== '' && n !== '.' && n !== '..' && !n.includes('/') && !n.includes('\0'))

/**
 * Parse and check the journal's JSON text; its folders must be inside `tmp`
 * (the store's ROOT/tmp, where staging lives). Pure; E_CONFIG naming `where`.
 */
export const parsePlacement = (text: string, where: string, tmp: string): Placement => {
  let o: Record<string, unknown>
  try {
    o = JSON.parse(text) as Record<string, unknown>
  } catch (er) {
    throw new XsError('E_CONFIG', `${where}: not JSON (${(er as Error).message}); check the build files in xobuilds-packed by hand, then remove it`, { path: where })
  }
  const ok = typeof o === 'object' && o !== null &&
    (o.direction === 'forward' || o.direction === 'back') && typeof o.name === 'string' &&
    typeof o.from === 'string' && o.from.startsWith('/') && typeof o.aside === 'string' && o.aside.startsWith('/') &&
    isNameList(o.mine) && isNameList(o.old)
  if (!ok) throw new XsError('E_CONFIG', `${where}: not a placement journal; check the build files in xobuilds-packed by hand, then remove it`, { path: where })
  const inTmp = (d: string): boolean => d.startsWith(tmp + '/') && !d.split('/').includes('..')
  if (!inTmp(o.from as string) || !inTmp(o.aside as string)) {
    throw new XsError('E_CONFIG', `${where}: names folders outside ${tmp}; check the build files in xobuilds-packed by hand, then remove it`, { path: where })
  }
  return o as unknown as Placement
}

const exists = async (p: string): Promise<boolean> => stat(p).then(() => true, () => false)

/**
 * Carry a placement through in its direction. Idempotent: a run killed in
 * here is finished by the next one. Forward: move each new file still in
 * `from` into the folder, remove older files the new build does not
 * replace. Back: remove the new files that replaced nothing, move each
 * older file still kept aside back into place.
 */
const carryOut = async (layout: PublishLayout, p: Placement, log: LogFn): Promise<void> => {
  const packed = layout.packed
  if (p.direction === 'forward') {
    for (const f of p.mine) if (await exists(join(p.from, f))) await rename(join(p.from, f), join(packed, f))
    for (const f of p.old) if (!p.mine.includes(f)) await rm(join(packed, f), { force: true })
    for (const f of p.mine) if (!await exists(join(packed, f))) log('warning', `${join(packed, f)} of build ${p.name} is missing`)
  } else {
    for (const f of p.mine) if (!p.old.includes(f)) await rm(join(packed, f), { force: true })
    for (const f of p.old) if (await exists(join(p.aside, f))) await rename(join(p.aside, f), join(packed, f))
  }
  await fsyncDir(packed)
}

const writeJournal = async (layout: PublishLayout, p: Placement): Promise<void> =>
  atomicWrite(journalPath(layout), JSON.stringify(p) + '\n', 0o644)

const removeJournal = async (layout: PublishLayout): Promise<void> => {
  await rm(journalPath(layout), { force: true })
  await fsyncDir(layout.state)
}

/**
 * Move the files `mine` (in `from`) into xobuilds-packed in place of the
 * files `old`, which are first hardlinked into `aside` (a new folder on the
 * store's filesystem). Returns `undo`, which puts the older files back;
 * call `done` when the placement is to stay. Until one of them returns,
 * the journal lets the next job finish whichever was under way.
 */
export const placePackedFiles = async (layout: PublishLayout, opts: Omit<Placement, 'direction'>, log: LogFn = silentLog):
Promise<{ undo: () => Promise<void>, done: () => Promise<void> }> => {
  const p: Placement = { direction: 'forward', ...opts }
  await mkdir(p.aside)
  for (const f of p.old) await link(join(layout.packed, f), join(p.aside, f))
  // The older files stay in place (a hardlink is kept aside) until the new
  // ones are in: at every moment xobuilds-packed holds files claiming NAME,
  // so a run killed here never lets a later refresh drop the served build.
  const undo = async (): Promise<void> => {
    const back: Placement = { ...p, direction: 'back' }
    await writeJournal(layout, back)
    await carryOut(layout, back, log)
    await removeJournal(layout)
  }
  await writeJournal(layout, p)
  try {
    await carryOut(layout, p, log)
  } catch (er) {
    await undo().catch(() => { /* the journal stays: the next job finishes it */ })
    throw er
  }
  return { undo, done: async () => { await removeJournal(layout) } }
}

/**
 * Finish a placement a killed job left (call holding the store lock, before
 * staging of killed runs is removed: the journal's folders are in it).
 */
export const recoverPlacement = async (layout: PublishLayout, log: LogFn = silentLog): Promise<void> => {
  const file = journalPath(layout)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (er) {
    if ((er as NodeJS.ErrnoException).code === 'ENOENT') return
    throw er
  }
  const p = parsePlacement(text, file, layout.tmp)
  log('notice', p.direction === 'forward'
    ? `Finishing the placement of build ${p.name} into ${layout.packed}, interrupted by a killed job`
    : `Putting back the earlier files of build ${p.name} in ${layout.packed}, interrupted by a killed job`)
  await carryOut(layout, p, log)
  await removeJournal(layout)
}
