/** Edit distance (insert, delete, substitute, swap of neighbours). Pure. */
const distance = (a: string, b: string): number => {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[]
      const prev = d[i - 1] as number[]
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1)
      }
    }
  }
  return (d[a.length] as number[])[b.length] as number
}

/**
 * The candidate `word` was most likely meant as: a unique one that starts with
 * it, or the closest within a third of its length (at least 1, at most 3
 * edits). Undefined when nothing is close. Pure.
 */
export const didYouMean = (word: string, candidates: readonly string[]): string | undefined => {
  if (word === '') return undefined
  const prefixed = candidates.filter((c) => c.startsWith(word))
  if (prefixed.length === 1) return prefixed[0]
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)))
  let best: string | undefined
  let bestD = limit + 1
  for (const c of candidates) {
    const dd = distance(word, c)
    if (dd < bestD) {
      best = c
      bestD = dd
    }
  }
  return best
}
