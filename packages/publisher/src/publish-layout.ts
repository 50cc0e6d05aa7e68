import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { storeLayout, type StoreLayout } from '@xs-rsync/core'

/** Where the publisher keeps things, on top of core's storeLayout. */
export interface PublishLayout extends StoreLayout {
  /**
   * ROOT/pub/builds/.trees/NAME@ID/{root/,contents}: the real version
   * directories; ROOT/pub/builds/NAME is a symlink to .trees/NAME@ID. They
   * live inside pub/builds because rsync 3.5's daemon only follows symlinks
   * that stay inside the module.
   */
  trees: string
  /** ROOT/state/builds/NAME.json */
  records: string
  /** ROOT/state/xs-rsync.lock: one job at a time on the store. */
  lock: string
  /** ROOT/state/ownership/NAME@ID.{fattr,fakeroot}: each tree's ownership data, kept out of what is served. */
  ownership: string
  /** ROOT/state/fakeroot.state: combined fakeroot state of all trees (fakeroot backend). */
  fakerootState: string
  /** ROOT/state/removed/NAME.json: what is kept of removed builds (replay protection). */
  removed: string
}

export const publishLayout = (root: string): PublishLayout => {
  const s = storeLayout(root)
  return {
    ...s,
    trees: join(s.builds, '.trees'),
    records: join(s.state, 'builds'),
    lock: join(s.state, 'xs-rsync.lock'),
    ownership: join(s.state, 'ownership'),
    fakerootState: join(s.state, 'fakeroot.state'),
    removed: join(s.state, 'removed'),
  }
}

/** A fresh tree id: UTC time + random, sortable, path- and rsync-safe. */
export const newTreeId = (now = new Date()): string =>
  `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`

/** "NAME@ID" (names never hold "@"). */
export const treeDirName = (name: string, id: string): string => `${name}@${id}`

/** The symlink target, relative to pub/builds. */
export const treeLinkTarget = (tree: string): string => `.trees/${tree}`
