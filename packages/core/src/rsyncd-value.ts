/**
 * True when the rsync daemon would not read `v` as written in a config value:
 * it joins a line ending in a backslash to the next one and expands %NAME%
 * from its environment (tested with rsync 3.5: `path = /x\` swallowed the
 * next line, `path = /b%HOME%` became /b/root).
 */
export const rsyncdRewrites = (v: string): boolean => v.includes('%') || v.endsWith('\\')
