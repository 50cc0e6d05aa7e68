import { join } from 'node:path'

/** Where everything lives under the store root (same layout as the original xs-rsync). */
export interface StoreLayout {
  root: string
  /** Input: X-tree.tar.*, its .md5, X.contents, X.name */
  packed: string
  /** ROOT/pub */
  pub: string
  /** ROOT/pub/builds/NAME/{root/,contents} */
  builds: string
  /** Records and ownership data. */
  state: string
  /** Staging; always on the store's own filesystem. */
  tmp: string
}

export const storeLayout = (root: string): StoreLayout => ({
  root,
  packed: join(root, 'xobuilds-packed'),
  pub: join(root, 'pub'),
  builds: join(root, 'pub', 'builds'),
  state: join(root, 'state'),
  tmp: join(root, 'tmp'),
})
