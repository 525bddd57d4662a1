#!/usr/bin/env bash
# Renders the report.html of a tiny real train_cnn run in headless Chromium: the page's own
# script must report "report-ok" (every chart sized, every image decoded) and the screenshot
# must not be blank. Skipped (exit 77) when Debian's chromium is not installed.
# Usage: tests/report_browser.sh <train_cnn binary> [png to keep]
set -euo pipefail
train_cnn=$1
keep=${2:-}
if ! command -v chromium > /dev/null; then
  echo "SKIP: chromium is not installed (apt-get install chromium, or scripts/install_deps.sh browser)"
  exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$train_cnn" --epochs 2 --train-subset 1000 --test-subset 500 --threads 1 --out-dir "$dir/run" \
  > "$dir/train.log" 2>&1 || { cat "$dir/train.log"; exit 1; }
page="file://$dir/run/report.html"
# Root needs --no-sandbox; a private profile lets runs in parallel not share one.
browser=(chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
         --user-data-dir="$dir/profile")
timeout 120 "${browser[@]}" --dump-dom "$page" > "$dir/dom.html" 2> "$dir/chromium.log" || true
status=$(grep -o '<p id="report-status"[^<]*' "$dir/dom.html" | sed 's/.*>//' || true)
if [ "$status" != "report-ok" ]; then
  echo "the page's script reported: '${status:-nothing (no DOM dumped)}'"
  tail -5 "$dir/chromium.log"
  exit 1
fi
timeout 120 "${browser[@]}" --window-size=1100,2600 --screenshot="$dir/shot.png" "$page" \
  > /dev/null 2>> "$dir/chromium.log" || true
[ -s "$dir/shot.png" ] || { echo "no screenshot"; tail -5 "$dir/chromium.log"; exit 1; }
python3 "$here/png_colors.py" "$dir/shot.png"
[ -z "$keep" ] || cp "$dir/shot.png" "$keep"
echo "report-ok; screenshot not blank"
