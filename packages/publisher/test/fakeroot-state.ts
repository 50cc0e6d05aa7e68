import t from 'tap'
import { fakerootKey, parseFakerootState } from '../src/fakeroot-state.js'

t.test('good state', async (t) => {
  const keys = parseFakerootState(
    'dev=803,ino=12,mode=40755,uid=0,gid=0,nlink=2,rdev=0\ndev=803,ino=13,mode=20666,uid=0,gid=0,nlink=1,rdev=259\n', 's')
  t.same([...keys], ['803:12', '803:13'])
  t.equal(fakerootKey(0x803n, 12n), '803:12')
  t.same([...parseFakerootState('', 's')], [])
})

t.test('malformed lines are refused, naming the line', async (t) => {
  for (const [text, line] of [
    ['dev=803,ino=12,mode=40755,uid=0,gid=0,nlink=2\n', 1],
    ['dev=803,ino=12,mode=40755,uid=0,gid=0,nlink=2,rdev=0\ngarbage\n', 2],
    ['dev=803,ino=12,mode=40795,uid=0,gid=0,nlink=2,rdev=0\n', 1],
    ['dev=803,ino=12,mode=40755,uid=0,gid=0,nlink=2,rdev=0\n\n', 2],
    ['dev=xyz,ino=12,mode=40755,uid=0,gid=0,nlink=2,rdev=0', 1],
  ] as const) {
    t.throws(() => parseFakerootState(text, '/s/fakeroot.state'), { code: 'E_OWNERSHIP', message: new RegExp(`^/s/fakeroot\\.state:${line}: `) })
  }
})
