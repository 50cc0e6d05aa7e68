/** The numbered steps an ingest logs ([n/N] title), in order. */
export const INGEST_STEPS = {
  find: 'Finding the builds on',
  manifest: 'Reading the manifest',
  signature: 'Checking the signature',
  files: 'Checking the files on the stick',
  compare: 'Comparing with the published builds',
  space: 'Checking free space',
  copy: 'Copying and verifying',
  publish: 'Publishing',
} as const

export type IngestStep = keyof typeof INGEST_STEPS

const ALL: readonly IngestStep[] = ['find', 'manifest', 'signature', 'files', 'compare', 'space', 'copy', 'publish']
const CHECK: readonly IngestStep[] = ['find', 'manifest', 'signature', 'files', 'compare', 'space', 'copy']

/** The steps of an ingest (`check`: of `ingest --check`), in the order they run; a step may be left out, never reordered. */
export const ingestSteps = (check: boolean): readonly IngestStep[] => check ? CHECK : ALL
