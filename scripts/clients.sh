#!/usr/bin/env bash
# The field's own tools as test clients (verl, TRL, the GOT-10k toolkit, qwen_vl_utils), installed into
# .clients beside the project's venv, never into it: `pip install --no-deps --target`, so nothing of the
# project's pins moves (verl declares transformers<5.11; its dataset and reward code run on ours). The
# tests put .clients at the END of sys.path (the venv's packages win) and skip with the reason when it
# is missing. Quick when nothing changed: a stamp keyed on this file and the venv's Python. An install
# that fails (no index) warns and leaves the client tests skipped; it never fails the bootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
DIR=.clients
STAMP=$DIR/.vrft-clients-stamp
# the clients, then what their imports ask for (verl's package __init__ imports ray; its reward loop aiohttp)
CLIENTS="verl==0.9.1 trl==1.16.0 got10k==0.1.3 qwen-vl-utils==0.0.14"
IMPORTS="omegaconf==2.4.0 hydra-core==1.3.8 codetiming==1.4.0 tensordict==0.15.3 pyvers==0.2.3 ray==2.60.0
         msgpack==1.2.4 cloudpickle==3.1.3 orjson==3.13.0 aiohttp==3.14.5 multidict==7.2.1 yarl==1.25.1
         propcache==0.5.4 aiohappyeyeballs==2.7.1 aiosignal==1.4.0 frozenlist==1.8.0"

want=$({ cat scripts/clients.sh; "$PY" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi

echo "bootstrap: installing the test clients into $DIR (verl, TRL, got10k, qwen-vl-utils; about 30 s) ..."
rm -rf "$DIR.tmp"
# shellcheck disable=SC2086
if "$PY" -m pip install -q --no-deps --disable-pip-version-check --target "$DIR.tmp" $CLIENTS $IMPORTS > "$DIR.log" 2>&1; then
  echo "$want" > "$DIR.tmp/.vrft-clients-stamp"
  rm -rf "$DIR"
  mv "$DIR.tmp" "$DIR"
  rm -f "$DIR.log"
else
  rm -rf "$DIR.tmp"
  echo "bootstrap: could not install the test clients (log: $DIR.log); their tests will be skipped" >&2
fi
