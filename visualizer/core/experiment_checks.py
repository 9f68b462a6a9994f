"""The checks of an experiment file's values: each error names the key and says what is allowed, in one line."""

from __future__ import annotations

from visualizer.core.errors import ExperimentError, choices, plain, shown
from visualizer.core.model.hyperparams import HyperParam

#: the longest data.path accepted (Linux's PATH_MAX): a longer one cannot name a file
MAX_PATH_CHARS = 4096


def type_name(value) -> str:
    """What a value is, in the words of an error message ("an integer", "a table")."""
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


def want_int(key: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ExperimentError(key, f"{shown(value)} is {type_name(value)}; expected an integer from {lo} to {hi}")
    if not lo <= value <= hi:
        raise ExperimentError(key, f"{shown(value)} is out of range; allowed: {lo} to {hi}")
    return value


def as_float(key: str, value, allowed: str) -> float:
    """A number as a float; one beyond the floats' range (a 400-digit integer) is out of range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExperimentError(key, f"{shown(value)} is {type_name(value)}; expected a number")
    try:
        return float(value)
    except OverflowError:
        raise ExperimentError(key, f"{shown(value)} is out of range; allowed: {allowed}") from None


def want_float(key: str, value, lo: float, hi: float, *, lo_open: bool = False) -> float:
    bound = f"above {lo:g}" if lo_open else f"from {lo:g}"
    value = as_float(key, value, f"{bound} to {hi:g}")
    low_bad = value <= lo if lo_open else value < lo
    if value != value or low_bad or value > hi:
        raise ExperimentError(key, f"{value:g} is out of range; allowed: {bound} to {hi:g}")
    return value


def want_setting(key: str, value, hp: HyperParam) -> float:
    """A number for a declared setting (a schedule's field): an integer or a real inside its range."""
    if hp.integer:
        return want_int(key, value, int(hp.minimum), int(hp.maximum))
    value = want_float(key, value, hp.minimum, hp.maximum, lo_open=not hp.min_inclusive)
    if not hp.allows(value):
        raise ExperimentError(key, f"{value:g} is out of range; allowed: {hp.range_text()}")
    return value


def want_name(key: str, value, allowed) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ExperimentError(key, f"{shown(value)} is not known; allowed: {choices(allowed)}")
    return value


def want_bool(key: str, value) -> bool:
    if not isinstance(value, bool):
        raise ExperimentError(key, f"{shown(value)} is {type_name(value)}; expected true or false")
    return value


def want_str(key: str, value) -> str:
    if not isinstance(value, str):
        raise ExperimentError(key, f"{shown(value)} is {type_name(value)}; expected a string")
    return value


def want_path(key: str, value) -> str:
    """A file name: a string that could name a file (no NUL character, not longer than MAX_PATH_CHARS)."""
    value = want_str(key, value)
    if "\0" in value:
        raise ExperimentError(key, f"{shown(value)} holds a NUL character; expected a file name")
    if len(value) > MAX_PATH_CHARS:
        raise ExperimentError(key, f"a file name of {len(value):,} characters is too long; allowed: at most "
                              f"{MAX_PATH_CHARS:,}")
    return value


def check_keys(section: str, table, allowed) -> None:
    if not isinstance(table, dict):
        raise ExperimentError(section, f"expected a table [{section}], got {type_name(table)}")
    for key in table:
        if key not in allowed:
            raise ExperimentError(f"{section}.{plain(key)}" if section else plain(key),
                                  f"unknown key; allowed: {choices(allowed)}")
