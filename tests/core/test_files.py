"""Bounded reads of regular files only, and atomic writes with the umask's permissions."""

from __future__ import annotations

import os
import stat

import pytest

from visualizer.core.errors import VisualizerError
from visualizer.core.files import atomic_write_text, read_bytes_bounded, read_text_bounded


def test_a_regular_file_is_read(tmp_path):
    (tmp_path / "a.toml").write_bytes("\ufefftitle = 'é'\n".encode())
    assert read_text_bounded(tmp_path / "a.toml", 100, "experiment file") == "title = 'é'\n"


@pytest.mark.parametrize(("make", "words"), [
    (lambda p: os.mkfifo(p), "not a regular file"),
    (lambda p: os.symlink("/dev/zero", p), "not a regular file"),
    (lambda p: p.mkdir(), "is a folder"),
    (lambda p: p.write_bytes(b"x" * 101), "101 bytes is too large for a experiment file"),
    (lambda p: None, "no such experiment file"),
])
def test_what_is_not_a_small_regular_file_is_a_message_at_once(tmp_path, make, words):
    path = tmp_path / "e.toml"
    make(path)
    with pytest.raises(VisualizerError, match=words) as info:
        read_bytes_bounded(path, 100, "experiment file")
    assert str(path) in str(info.value)


def test_text_that_is_not_utf8_is_a_message(tmp_path):
    (tmp_path / "e.toml").write_bytes(b"title = '\xff'")
    with pytest.raises(VisualizerError, match="not UTF-8 text"):
        read_text_bounded(tmp_path / "e.toml", 100, "experiment file")


def test_atomic_writes_get_the_umasks_permissions(tmp_path):
    path = atomic_write_text(tmp_path / "summary.json", "{}")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temporary file left


def test_a_run_file_gets_the_umasks_permissions(tmp_path):
    from visualizer.core.experiment import Experiment
    from visualizer.core.runs.writer import RunWriter

    with RunWriter(tmp_path / "r.sqlite", Experiment()):
        pass
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "r.sqlite").stat().st_mode) == 0o666 & ~mask
