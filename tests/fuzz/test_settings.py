"""Settings and the last session: any bytes in settings.ini give settings whose every value passes its check (bad
ones reset, and said), and any last_session.toml reads as an experiment or one line; hostile files never hang."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.fuzz.conftest import COUNTS, FUZZ, HOSTILE, counted, make_hostile, one_line  # noqa: E402
from tests.fuzz.strategies import damaged_bytes, damaged_text  # noqa: E402
from visualizer.core import experiment  # noqa: E402
from visualizer.core.errors import VisualizerError  # noqa: E402
from visualizer.qt.app import settings as settings_module  # noqa: E402
from visualizer.qt.app.settings import SETTINGS, open_settings, recent_files, sanitize  # noqa: E402

pytestmark = pytest.mark.timeout(120)

GOOD_INI = (b"[General]\ntheme=dark\nspeed=Full speed\nrecent_files=/a.toml, /b.toml\nlast_path=/a.toml\n"
            b"last_dirty=false\ngeometry=@ByteArray(\\x1\\xd9\\xd0\\xcb\\0\\x3)\n")
SETTING_KEYS = [s.key for s in SETTINGS]


@pytest.fixture
def config(tmp_path, monkeypatch):
    folder = tmp_path / "config"
    folder.mkdir()
    monkeypatch.setenv("VISUALIZER_CONFIG_DIR", str(folder))
    monkeypatch.setattr(settings_module, "_fallback", None)
    return folder


def check_settings(folder) -> None:
    """Open the settings as the window does: every value left passes its check; what was reset is said in lines."""
    settings, problems = open_settings()
    try:
        assert all(isinstance(p, str) and p for p in problems)
        assert sanitize(settings) == []  # nothing bad is left
        for setting in SETTINGS:
            if settings.contains(setting.key):
                setting.check(settings.value(setting.key))
        assert all(isinstance(f, str) for f in recent_files(settings))
    finally:
        settings.sync()
        del settings


@st.composite
def ini_files(draw) -> bytes:
    """settings.ini: the window's own keys with values of every form QSettings writes (text, lists, @Variant and
    @ByteArray blobs), or a good file injured byte by byte."""
    if draw(st.booleans()):
        return draw(damaged_bytes(GOOD_INI))
    lines = [draw(st.sampled_from(["[General]", "[general]", "", "[%General]", "[Other]"]))]
    for _ in range(draw(st.integers(1, 6))):
        key = draw(st.one_of(st.sampled_from(SETTING_KEYS), st.text(max_size=8)))
        value = draw(st.one_of(
            st.sampled_from(["light", "dark", "garbage", "true", "false", "", "@Invalid()", "@ByteArray()",
                             "@Variant(\\0\\0\\0\\x2\\0\\0\\0\\x5)", "@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\x1x)",
                             "@Rect(1 2 3 4)", "@Size(1 2)", "@Point(1 2)", "a, b, c", "\"quoted", "1" * 5000,
                             "@ByteArray(" + "\\xff" * 100 + ")", "Full speed"]),
            st.text(max_size=30)))
        lines.append(f"{key}={value}")
    return draw(damaged_text("\n".join(lines))).encode("utf-8", "surrogatepass")


@pytest.mark.qt_log_ignore("QVariant::load: unknown user type")  # Qt's own note on a blob it cannot read
@FUZZ
@given(data=ini_files())
@counted("settings: settings.ini")
def test_any_settings_file(data, config):
    (config / "settings.ini").write_bytes(data)
    check_settings(config)


@FUZZ
@given(data=st.data())
@counted("settings: last_session.toml")
def test_any_last_session(data, config):
    source = _example().read_bytes()
    path = settings_module.last_session_path()
    path.write_bytes(data.draw(damaged_bytes(source)))
    try:
        experiment.load(path)
    except VisualizerError as exc:
        one_line(exc)


def _example():
    from visualizer.core.resources import resources_dir

    return resources_dir() / "experiments" / "moons.toml"


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_settings_files(kind, config):
    COUNTS["hand-made"] += 1
    make_hostile(config, "settings.ini", kind)
    check_settings(config)
    last = make_hostile(config, "last_session.toml", kind)
    if kind in ("empty", "long_name"):
        return
    with pytest.raises(VisualizerError) as info:
        experiment.load(last)
    one_line(info.value)
