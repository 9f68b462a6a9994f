"""PyInstaller's entry script: the `visualizer` command (no arguments opens the window)."""

import multiprocessing
import sys

from visualizer.__main__ import main

if __name__ == "__main__":
    # the window trains in a spawned child process: in a frozen app that child is this program started again, and
    # freeze_support runs it as the child (PyInstaller makes it work on every platform) instead of a second window
    multiprocessing.freeze_support()
    sys.exit(main())
