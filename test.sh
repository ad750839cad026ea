#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs (a venv with
# the Python packages, Debian's chromium, Node for the snippet's build check),
# then runs ruff, mypy, eslint, node --test and pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test.sh: installing ${need_apt[*]} with apt-get"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test,fast]"

if [ -f js_snippet/package-lock.json ]; then
  (cd js_snippet && npm ci --no-audit --no-fund --loglevel=error)
fi
# ESLint, pinned with its own lockfile apart from the snippet's build (tools/jslint/).
(cd tools/jslint && npm ci --no-audit --no-fund --loglevel=error)

echo "test.sh: ruff"
.venv/bin/ruff check recorder analyzer tests benchmarks
.venv/bin/ruff format --check recorder analyzer tests benchmarks
echo "test.sh: mypy"
.venv/bin/mypy
echo "test.sh: eslint"
tools/jslint/node_modules/.bin/eslint --no-warn-ignored -c tools/jslint/eslint.config.js \
  js_snippet/src js_snippet/test recorder/console/static/*.js recorder/console/static/test
echo "test.sh: node --test"
node --test recorder/console/static/test/ js_snippet/test/
echo "test.sh: pytest"
exec .venv/bin/pytest "$@"
