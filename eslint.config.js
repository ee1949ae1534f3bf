import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'build/**', 'src/protocol/pb/**', 'node_modules/**'] })
]
