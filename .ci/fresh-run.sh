#!/usr/bin/env bash
# The README's run command on a fresh machine: a copy of the checkout (tracked files
# only), an empty HOME, Debian's system Python where there is one. Runs the command
# as README.md writes it (tests/test_readme_run.py keeps RUN_COMMAND and the README
# equal) on a free port, waits for /healthz, stops it. Non-zero exit on failure.
# As root it does so twice: as root, then as a normal user (nobody, through setpriv)
# with a copy and a HOME of that user's own, as a person without root would.
set -euo pipefail
cd "$(dirname "$0")/.."

RUN_COMMAND='./uxlab serve'

real_home="$HOME"
python="${PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x /usr/bin/python3 ]; then python=/usr/bin/python3
  else python="$(python3 -c 'import sys; print(sys.executable)')"; fi  # through pyenv shims, before HOME moves
fi
checkout="$(pwd)"
work=""
home=""
pid=""
log=""
cleanup() {
  status=$?
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
  if [ $status -ne 0 ] && [ -n "$log" ] && [ -f "$log" ]; then
    echo "fresh-run: the server's output:" >&2; cat "$log" >&2
  fi
  [ -z "$work" ] || rm -rf "$work"
  [ -z "$home" ] || rm -rf "$home"
}
trap cleanup EXIT

# fresh_run WHO [COMMAND PREFIX...]: the run command in a new copy with a new HOME.
fresh_run() {
  local who="$1"; shift
  work="$(mktemp -d)"
  home="$(mktemp -d)"
  log="$work/serve.log"
  mkdir -p "$work/uxlab"
  (cd "$checkout" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$work/uxlab"
  local cache="${PIP_CACHE_DIR:-$real_home/.cache/pip}"  # pip's cache keeps it fast; all else starts empty
  if [ "$who" != root ]; then
    chown -R "$who" "$work" "$home"
    cache="$home/.cache/pip"
  fi
  local port
  port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  echo "fresh-run: $RUN_COMMAND as $who in a clean copy, HOME empty, $python, port $port"
  (cd "$work/uxlab" && exec "$@" env -i PATH="$PATH" HOME="$home" PYTHON="$python" PIP_CACHE_DIR="$cache" \
    UXLAB_PORT="$port" LANG=C.UTF-8 bash -c "exec $RUN_COMMAND") >"$log" 2>&1 &
  pid=$!
  local started=$SECONDS
  local deadline=$((SECONDS + ${FRESH_RUN_TIMEOUT:-600}))
  until "$python" -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:$port/healthz', timeout=2)" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "fresh-run: the server exited before answering /healthz" >&2; exit 1; fi
    if [ $SECONDS -ge $deadline ]; then echo "fresh-run: no answer on /healthz in time" >&2; exit 1; fi
    sleep 1
  done
  echo "fresh-run: /healthz answered after $((SECONDS - started)) s"
  kill "$pid"
  wait "$pid" || { echo "fresh-run: the server did not stop cleanly" >&2; exit 1; }
  pid=""
  grep -q "serving on http://127.0.0.1:$port" "$log" || { echo "fresh-run: no 'serving on' line" >&2; exit 1; }
  rm -rf "$work" "$home"
  work="" home="" log=""
}

if [ "$(id -u)" = 0 ]; then
  fresh_run root
  if command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
    uid="$(id -u nobody)" gid="$(id -g nobody)"
    fresh_run nobody setpriv --reuid="$uid" --regid="$gid" --clear-groups
  else
    echo "fresh-run: no setpriv or no user nobody here: the run as a normal user is skipped" >&2
  fi
else
  fresh_run "$(id -un)"
fi
echo "fresh-run: ok"
