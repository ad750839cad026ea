// Build the snippet and its recording bundles, each one minified IIFE:
//   js_snippet/src/index.js  -> recorder/collector/static/uxlab.js          (the snippet, 5 KB gzip budget)
//   js_snippet/src/replay.js -> recorder/collector/static/uxlab-replay.js   (rrweb's recorder, loaded on demand)
//   js_snippet/src/player.js -> recorder/console/static/uxlab-player.js     (rrweb's replayer, for the console)
//   rrweb's player CSS + js_snippet/src/player.css -> recorder/console/static/uxlab-player.css
// `node build.mjs OUT.js` writes the snippet to OUT.js and the others beside it. The output
// depends only on the sources and the pinned packages: the same input gives the same bytes
// (tests/test_snippet_build.py checks that the shipped files are a fresh build).
import { build } from 'esbuild'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))
const outfile = process.argv[2] || join(here, '..', 'recorder', 'collector', 'static', 'uxlab.js')
const outdir = dirname(outfile)
// The player is the console's: by default it goes beside the console's other static files.
const playerdir = process.argv[2] ? outdir : join(here, '..', 'recorder', 'console', 'static')

const options = {
  bundle: true,
  format: 'iife',
  minify: true,
  target: ['es2019'],
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning'
}

await build({
  ...options,
  entryPoints: [join(here, 'src', 'index.js')],
  outfile,
  banner: { js: '/* uxlab snippet (MIT): records one usability-test session */' }
})
await build({
  ...options,
  entryPoints: [join(here, 'src', 'replay.js')],
  outfile: join(outdir, 'uxlab-replay.js'),
  banner: { js: '/* uxlab recorder module (MIT), with rrweb (MIT, github.com/rrweb-io/rrweb) */' }
})
await build({
  ...options,
  entryPoints: [join(here, 'src', 'player.js')],
  outfile: join(playerdir, 'uxlab-player.js'),
  banner: { js: '/* uxlab player (MIT), with rrweb (MIT, github.com/rrweb-io/rrweb) */' }
})
writeFileSync(join(playerdir, 'uxlab-player.css'),
  readFileSync(join(here, 'node_modules', 'rrweb', 'dist', 'style.css'), 'utf8') + '\n' +
  readFileSync(join(here, 'src', 'player.css'), 'utf8'))
