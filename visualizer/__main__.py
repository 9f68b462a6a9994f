"""`python -m visualizer` is the `visualizer` command."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from visualizer.core.threads import wait_passively

    wait_passively()  # before torch is imported: OpenMP's idle threads sleep instead of spinning
    from visualizer.cli.parser import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
