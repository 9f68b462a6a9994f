#!/usr/bin/env bash
# Install the Linux desktop entry and icon for the current user. With a built program (packaging/build.sh) the entry
# starts it; otherwise the venv's `visualizer` command (.venv/bin/visualizer of the README's set-up), by its full path:
# a desktop session does not have the venv on its PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
built="$PWD/packaging/dist/optimization-visualizer/optimization-visualizer"
exec_line="$PWD/.venv/bin/visualizer"
[ -x "$built" ] && exec_line="$built"
if [ ! -x "$exec_line" ]; then
  echo "error: neither $built nor $PWD/.venv/bin/visualizer exists: run the README's set-up first" >&2
  exit 2
fi
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor"
mkdir -p "$apps"
install -Dm644 resources/icons/optimization-visualizer.png "$icons/256x256/apps/optimization-visualizer.png"
install -Dm644 resources/icons/optimization-visualizer.svg "$icons/scalable/apps/optimization-visualizer.svg"
sed "s|^Exec=.*|Exec=$exec_line|" packaging/visualizer.desktop > "$apps/optimization-visualizer.desktop.tmp"
mv "$apps/optimization-visualizer.desktop.tmp" "$apps/optimization-visualizer.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$apps" || true
echo "installed $apps/optimization-visualizer.desktop (Exec=$exec_line)"
