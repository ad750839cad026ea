// The JS lint of ./test.sh: ESLint's recommended rules over the snippet's sources and the
// console's scripts (browser ES modules), and the node --test files beside them.
// Run from the repository root: tools/jslint/node_modules/.bin/eslint -c tools/jslint/eslint.config.js
import js from '@eslint/js'
import globals from 'globals'

export default [
  // Built bundles (esbuild output of js_snippet/build.mjs) are checked as sources, not as output.
  { ignores: ['recorder/console/static/uxlab-player.js'] },
  js.configs.recommended,
  {
    files: ['js_snippet/src/**/*.js', 'recorder/console/static/*.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.browser }
    },
    rules: {
      // `catch {}` is how the snippet and the console stay quiet where storage or a page may throw.
      'no-empty': ['error', { allowEmptyCatch: true }]
    }
  },
  {
    files: ['js_snippet/test/**/*.mjs', 'recorder/console/static/test/**/*.mjs'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node }
    }
  }
]
