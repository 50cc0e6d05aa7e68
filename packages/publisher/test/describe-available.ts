import t from 'tap'
import { availableWithUrls, describeAvailable, MAX_LISTED_URLS } from '../src/describe-available.js'

t.test('every build with its URL, or the listing command when there are many', async (t) => {
  const many = Array.from({ length: MAX_LISTED_URLS + 1 }, (_, i) => String(40 + i))
  const cases: [string[], string][] = [
    [[], 'no builds are available to laptops'],
    [['44'], 'builds available to laptops: 44 (rsync://xs/build-44)'],
    [['44', '45'], 'builds available to laptops: 44, 45 (rsync://xs/build-44, rsync://xs/build-45)'],
    [many, `builds available to laptops: ${many.join(', ')} (list them with "rsync rsync://xs/")`],
  ]
  for (const [names, want] of cases) t.equal(describeAvailable(names, 'xs'), want, names.join(','))
  t.equal(availableWithUrls([], 'xs'), 'none')
  const eight = many.slice(0, MAX_LISTED_URLS)
  t.equal(describeAvailable(eight, 'xs').match(/rsync:\/\/xs\/build-/g)?.length, MAX_LISTED_URLS, 'up to the limit, every URL')
})
