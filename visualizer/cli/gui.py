"""`visualizer gui [EXPERIMENT]` (and plain `visualizer`): the window."""

from __future__ import annotations

import argparse
from pathlib import Path

from visualizer.cli.common import EXIT_BAD_INPUT, fail


def add_parser(sub) -> None:
    p = sub.add_parser("gui", help="open the window", description="Open the window on an experiment file, or "
                         "on the last session (the built-in example the first time).")
    p.add_argument("experiment", nargs="?", type=Path, help="experiment file (.toml or .json)")
    p.add_argument("--first-paint-probe", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--check-start", action="store_true",
                     help="open the window, train the experiment for 50 steps, print what was shown and quit "
                          "(exit status 0 when it worked): the start check of a packaged build")
    p.set_defaults(func=cmd_gui)


def cmd_gui(args) -> int:
    if args.experiment is not None and not args.experiment.exists():
        return fail(f"{args.experiment}: no such experiment file", EXIT_BAD_INPUT)
    from visualizer.qt.app.start import main as gui_main

    return gui_main(str(args.experiment) if args.experiment else None, first_paint_probe=args.first_paint_probe,
                    check_start=args.check_start)
