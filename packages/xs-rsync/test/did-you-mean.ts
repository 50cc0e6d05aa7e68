import t from 'tap'
import { didYouMean } from '../src/did-you-mean.js'

t.test('the closest candidate, or nothing when none is close (table)', async (t) => {
  const words = ['list', 'status', 'ingest', 'refresh', 'prepare-stick', 'publish', 'json', 'reserve', 'root', 'rsyncd-conf']
  const cases: [string, string | undefined][] = [
    ['lsit', 'list'], // swapped neighbours
    ['lst', 'list'], // one missing
    ['statsu', 'status'],
    ['ingets', 'ingest'],
    ['refrsh', 'refresh'],
    ['prepare', 'prepare-stick'], // unique prefix
    ['pre', 'prepare-stick'],
    ['pub', 'publish'],
    ['jsn', 'json'],
    ['reserv', 'reserve'],
    ['rsyncd-config', 'rsyncd-conf'],
    ['r', undefined], // ambiguous prefix, too short to guess
    ['xyz', undefined],
    ['completely-different', undefined],
    ['', undefined],
  ]
  for (const [word, want] of cases) t.equal(didYouMean(word, words), want, word)
})
