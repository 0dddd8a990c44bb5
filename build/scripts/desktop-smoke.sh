#!/usr/bin/env bash
# desktop-smoke.sh LIGHTBOX_DESKTOP_BIN: start the desktop build under Xvfb with an imported corpus, take a
# screenshot, and check that the study browser was shown: the UI listed the studies (the app logs each
# ListStudies call at debug level) and the window is not blank. Then `lightbox open STUDY` on the CT study:
# the viewer in the desktop window shows its series (the UI reports it to the application log through
# ClientLog), with no UI error, and the screenshot holds the image's many grey levels.
set -euo pipefail
: "${LIGHTBOX_CORPUS:=$HOME/.cache/lightbox/corpus}"
bin=$(readlink -f "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
out=${SMOKE_OUT:-$root/build/out}
mkdir -p "$out"
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work"' EXIT
"$root/build/bin/lightbox" import -q --data "$work/data" "$LIGHTBOX_CORPUS/images/ct" >/dev/null 2>&1
export LIGHTBOX_DATA="$work/data" LIGHTBOX_LOG=debug
xvfb-run -a -s "-screen 0 1400x900x24" bash -c '
  "$0" > "$1/app.log" 2>&1 &
  app=$!
  for i in $(seq 150); do grep -q "studies listed" "$1/app.log" && break; sleep 0.2; done
  sleep 2
  import -window root "$2/desktop.png"
  kill $app; wait $app 2>/dev/null || true
' "$bin" "$work" "$out" &
pid=$!
wait $pid
if ! grep -q 'studies listed.*count=[1-9]' "$work/app.log"; then
  echo "desktop smoke: the UI never listed the studies"; tail -30 "$work/app.log"; exit 1
fi
colours=$(convert "$out/desktop.png" -format '%k' info:)
echo "desktop smoke: window shown, studies listed, screenshot $out/desktop.png has $colours colours"
[ "$colours" -gt 16 ] || { echo "desktop smoke: the screenshot looks blank"; exit 1; }

# the viewer in the desktop window: open the CT study by its UID
study=$("$root/build/bin/lightbox" studies --data "$work/data" --json | python3 -c 'import json,sys; print(next(s["studyInstanceUID"] for s in json.load(sys.stdin) if "CT" in s["modalities"]))')
xvfb-run -a -s "-screen 0 1400x900x24" bash -c '
  "$0" open "$3" > "$1/viewer.log" 2>&1 &
  app=$!
  for i in $(seq 300); do grep -q "ui: viewer: series .* shown" "$1/viewer.log" && break; sleep 0.2; done
  sleep 2
  import -window root "$2/desktop-viewer.png"
  kill $app; wait $app 2>/dev/null || true
' "$bin" "$work" "$out" "$study" &
pid=$!
wait $pid
if ! grep -q "ui: viewer: series .* shown" "$work/viewer.log"; then
  echo "desktop smoke: the viewer never showed the study"; tail -30 "$work/viewer.log"; exit 1
fi
if grep -q "level=ERROR.*ui:" "$work/viewer.log"; then
  echo "desktop smoke: the UI reported errors"; grep "ui:" "$work/viewer.log" | head; exit 1
fi
grep -o "ui: viewer: series .* shown[^\"]*" "$work/viewer.log" | head -1
colours=$(convert "$out/desktop-viewer.png" -format '%k' info:)
echo "desktop smoke: viewer shown, screenshot $out/desktop-viewer.png has $colours colours"
[ "$colours" -gt 64 ] || { echo "desktop smoke: the viewer screenshot has too few colours for an image"; exit 1; }
