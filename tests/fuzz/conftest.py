"""The fuzz suite: every file the app reads, damaged and hostile, generated with Hypothesis (derandomized, no example
database, so CI sees the same inputs every run).

Each test body decorated with ``counted(READER)`` adds one to that reader's count per generated input. At the end of
the session the counts are written as JSON to ``<pytest's base temp>/fuzz_examples.json`` (and to the path in
$FUZZ_COUNTS_JSON when set); with ``-v`` pytest's summary shows them in one line. Nothing is printed otherwise.
"""

from __future__ import annotations

import functools
import json
import os
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

#: generated inputs per reader, and hand-made hostile cases (FIFO, /dev/zero, ...) under "hand-made"
COUNTS: Counter[str] = Counter()

#: the settings every fuzz test starts from: the same examples each run, no .hypothesis database, a deadline per
#: input (a slow reader fails; a hung one is ended by pytest-timeout), and a failure shrunk but not traced line by
#: line (the explain phase would take minutes)
FUZZ = settings(derandomize=True, database=None, deadline=timedelta(seconds=10), print_blob=False,
                phases=(Phase.explicit, Phase.generate, Phase.shrink),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much,
                                       HealthCheck.large_base_example])


def counted(reader: str):
    """Count each call of the decorated test body (one per generated input) under ``reader``."""
    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            COUNTS[reader] += 1
            return fn(*args, **kwargs)
        return inner
    return wrap


def one_line(error: BaseException) -> str:
    """The message of an error the app shows, checked to be one non-empty line."""
    text = str(error)
    assert text and "\n" not in text and "\r" not in text, f"not one line: {text!r}"
    assert "Traceback" not in text
    return text


@pytest.fixture(scope="session", autouse=True)
def _report_counts(tmp_path_factory):
    yield
    if not COUNTS:
        return
    report = {"total_generated": sum(v for k, v in COUNTS.items() if k != "hand-made"), **dict(sorted(COUNTS.items()))}
    targets = [tmp_path_factory.getbasetemp() / "fuzz_examples.json"]
    if os.environ.get("FUZZ_COUNTS_JSON"):
        targets.append(Path(os.environ["FUZZ_COUNTS_JSON"]))
    for target in targets:
        target.write_text(json.dumps(report, indent=2) + "\n")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if COUNTS and config.option.verbose > 0:
        total = sum(v for k, v in COUNTS.items() if k != "hand-made")
        parts = ", ".join(f"{k} {v}" for k, v in sorted(COUNTS.items()))
        terminalreporter.write_line(f"fuzz: {total} generated inputs ({parts})")


HOSTILE = ("fifo", "dev_zero", "folder", "empty", "dangling_link", "link_loop", "long_name")


def make_hostile(folder: Path, name: str, kind: str) -> Path:
    """A file-system object where a file named ``name`` belongs: a FIFO (opening it blocking would hang), a symlink to
    /dev/zero (reading it never ends), a folder, 0 bytes, a dangling symlink, a symlink loop, a name too long."""
    path = folder / name
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev_zero":
        os.symlink("/dev/zero", path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "dangling_link":
        os.symlink(folder / "nowhere", path)
    elif kind == "link_loop":
        os.symlink(path, path)
    elif kind == "long_name":
        path = folder / ("x" * 300 + Path(name).suffix)
    else:
        raise ValueError(kind)
    return path
