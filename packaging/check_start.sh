#!/usr/bin/env bash
# The start check of a built program: it opens its window offscreen, trains the built-in example for 50 steps,
# prints what it showed and exits 0; anything else fails. Usage: check_start.sh PROGRAM
set -euo pipefail
program=${1:?usage: check_start.sh PROGRAM}
config=$(mktemp -d)
trap 'rm -rf "$config"' EXIT
out=$(QT_QPA_PLATFORM=offscreen VISUALIZER_CONFIG_DIR="$config" timeout 180 "$program" gui --check-start 2>&1) || {
  echo "$out" >&2; echo "start check FAILED: $program" >&2; exit 1; }
echo "$out" | grep "^check-start ok" || { echo "$out" >&2; echo "start check FAILED: no window" >&2; exit 1; }
"$program" validate resources/experiments/moons.toml >/dev/null 2>&1 || \
  QT_QPA_PLATFORM=offscreen "$program" --help >/dev/null
echo "start check passed: $program"
