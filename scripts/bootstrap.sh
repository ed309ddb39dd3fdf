#!/usr/bin/env bash
# Idempotent setup for `make test` / `make demo`: ffmpeg, a .venv in the repo root, the pinned deps, and
# the test clients beside the venv (scripts/clients.sh). Quick when nothing changed: the venv and the
# clients each carry a stamp keyed on their dependency files' contents.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.vrft-deps-stamp

if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    echo "bootstrap: installing ffmpeg from apt ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q ffmpeg >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q ffmpeg >/dev/null; }
  else
    echo "bootstrap: ffmpeg/ffprobe not found and not running as root." >&2
    echo "           Install it yourself (e.g. 'sudo apt-get install -y ffmpeg'), then rerun." >&2
    exit 1
  fi
fi

if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "bootstrap: vrft needs Python >= 3.11 (found $("$PYTHON" --version 2>&1)); set PYTHON=..." >&2
  exit 1
fi

want=$(cat pyproject.toml constraints.txt scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exec bash scripts/clients.sh
fi

echo "bootstrap: building $VENV (first run takes a few minutes; log in $VENV/bootstrap.log) ..."
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
if ! { "$VENV/bin/python" -m pip install --upgrade pip \
       && "$VENV/bin/python" -m pip install -c constraints.txt -e '.[dev]'; } > "$VENV/bootstrap.log" 2>&1; then
  tail -n 40 "$VENV/bootstrap.log" >&2
  echo "bootstrap: installing the Python dependencies failed (full log: $VENV/bootstrap.log)" >&2
  exit 1
fi
echo "$want" > "$STAMP"
bash scripts/clients.sh
echo "bootstrap: ready"
