// Build the snippet: js_snippet/src -> recorder/collector/static/uxlab.js, one minified IIFE.
// The output depends only on the sources and the pinned esbuild: the same input gives the
// same bytes (tests/test_snippet_build.py checks that the shipped file is a fresh build).
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))
const outfile = process.argv[2] || join(here, '..', 'recorder', 'collector', 'static', 'uxlab.js')

await build({
  entryPoints: [join(here, 'src', 'index.js')],
  outfile,
  bundle: true,
  format: 'iife',
  minify: true,
  target: ['es2019'],
  legalComments: 'none',
  charset: 'utf8',
  banner: { js: '/* uxlab snippet (MIT): records one usability-test session */' },
  logLevel: 'warning'
})
