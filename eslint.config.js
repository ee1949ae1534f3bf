import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'src/protocol/pb/**', 'node_modules/**'] })
]
