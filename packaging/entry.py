"""PyInstaller's entry script: the `visualizer` command (no arguments opens the window)."""

import sys

from visualizer.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
