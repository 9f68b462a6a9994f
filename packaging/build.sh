#!/usr/bin/env bash
# Build the standalone application with PyInstaller (CPU torch) and check that the built program starts, shows its
# window (offscreen) and trains. Needs the project's venv (.venv, as the README sets it up).
# Result: packaging/dist/optimization-visualizer/optimization-visualizer (a one-folder build, ~1 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
"$py" -c "import torch; assert '+cu' not in torch.__version__, 'a CUDA torch would make the build several GB'" \
  || { echo "install the CPU build first: .venv/bin/pip install torch==2.13.0" >&2; exit 2; }
"$py" -m pip install -q -e ".[package]"
"$py" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath packaging/dist --workpath packaging/build packaging/visualizer.spec
bash packaging/check_start.sh packaging/dist/optimization-visualizer/optimization-visualizer
