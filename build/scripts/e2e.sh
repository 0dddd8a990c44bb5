#!/usr/bin/env bash
# e2e.sh LIGHTBOX_BIN: the browser tests (headless Chromium via playwright-core) against a real
# `lightbox serve` holding the imported corpus.
set -euo pipefail
: "${LIGHTBOX_CORPUS:=$HOME/.cache/lightbox/corpus}"
bin=$(readlink -f "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
port=${E2E_PORT:-18400}
dport=${E2E_DICOM_PORT:-18401}
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$bin" import -q --data "$work/data" "$LIGHTBOX_CORPUS" > "$work/import.log" 2>&1 || true
tail -1 "$work/import.log"
"$bin" serve --data "$work/data" --http "127.0.0.1:$port" --port "$dport" > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
export LIGHTBOX_URL="http://127.0.0.1:$port"
cd "$root/frontend"
if ! node --test --test-concurrency=1 e2e/; then
  echo "--- serve log"; tail -50 "$work/serve.log"; exit 1
fi
