"""Hypothesis strategies the fuzz tests share: damage done to valid bytes and text, and values of every kind (the
right and the wrong types, huge numbers, deep nesting)."""

from __future__ import annotations

from hypothesis import strategies as st

#: numbers that break naive readers: beyond float64, beyond int64, near the float limits, not finite
HUGE_NUMBERS = (10**400, -(10**400), 2**63, 2**64, -(2**63) - 1, 1e308, -1e308, 1.7976931348623157e308, 5e-324,
                float("inf"), float("-inf"), float("nan"))

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from(HUGE_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["", "moons", "csv", "iris", "sine", "adam", "sgd", "tanh", "relu", "auto", "mse", "x\ny",
                     "a" * 5000, "\x00", "../..", "/dev/zero", "~", "1e400", "nan"]),
)


def nested(depth: int, leaf=0):
    """A list nested ``depth`` deep (built without recursion)."""
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


#: JSON/TOML-like values: scalars, short lists and tables of them, and now and then a deep nest
values = st.one_of(
    st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                 | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=8),
    st.integers(1, 3000).map(nested),
)

#: text that upsets parsers: quotes and brackets left open, byte-order marks, NULs, huge numbers, deep nests
TROUBLE = ('"', "'", '"""', "[", "]", "{", "}", "=", "\n", "\r", "\t", "\ufeff", "\x00", ",", "#", "\\", "[[",
           "9" * 5000, "1e400", "-inf", "nan", "0x", "true", "1979-05-27", "[" * 2000, "[" * 100_000,
           "= [\n", "\u202e", "é", "\ud7ff")
#: values put where a value belongs (after ``key = `` or ``"key": ``)
TROUBLE_VALUES = ("9" * 5000, "1" + "0" * 400, "-1" + "0" * 400, "[" * 3000 + "]" * 3000, "1e400", "-inf", "nan",
                  "0", "-1", "1.5", '"x\\ny"', '"\\u0000"', "[]", "{}", "[1, [2]]", "true", '""',
                  '"' + "a" * 10_000 + '"', "18446744073709551616", "1e-400")


@st.composite
def damaged_text(draw, text: str) -> str:
    """``text`` with a few edits: a span cut out, trouble inserted, a line duplicated or replaced, the end cut."""
    out = text
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(("cut", "insert", "insert", "line", "truncate", "replace", "value", "value")))
        i = draw(st.integers(0, len(out)))
        if kind == "cut":
            out = out[:i] + out[i + draw(st.integers(1, 40)):]
        elif kind == "insert":
            token = draw(st.one_of(st.sampled_from(TROUBLE), st.text(min_size=1, max_size=12)))
            out = out[:i] + token + out[i:]
        elif kind == "line":
            lines = out.split("\n")
            j = draw(st.integers(0, len(lines) - 1))
            lines.insert(j, lines[j] if draw(st.booleans()) else draw(st.text(max_size=30)))
            out = "\n".join(lines)
        elif kind == "truncate":
            out = out[:i]
        elif kind == "value":  # a line's value (after '=' or ':') replaced by a troublesome one
            lines = out.split("\n")
            j = draw(st.integers(0, len(lines) - 1))
            for sep in (" = ", ": "):
                if sep in lines[j]:
                    key, _, rest = lines[j].partition(sep)
                    tail = "," if rest.rstrip().endswith(",") else ""
                    lines[j] = key + sep + draw(st.sampled_from(TROUBLE_VALUES)) + tail
                    break
            out = "\n".join(lines)
        else:
            out = out[:i] + draw(st.sampled_from(TROUBLE)) + out[i + 1:]
    return out


class Injuries(tuple):
    """Byte-level injuries, applied in order to bytes by ``apply``: (kind, where as a share of the length, payload)."""

    def apply(self, data: bytes, start: int = 0) -> bytes:
        out = bytearray(data)
        for kind, where, payload in self:
            if len(out) <= start:
                break
            i = start + int(where * (len(out) - start))
            i = min(i, len(out) - 1)
            if kind == "flip":
                out[i] ^= 1 << payload
            elif kind == "cut":
                del out[i:]
            elif kind == "noise":
                out[i:i + len(payload)] = payload
            elif kind == "zeros":
                out[i:i + payload] = bytes(len(out[i:i + payload]))
            else:
                out[i:i] = payload
        return bytes(out)


injury = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 7)),
    st.tuples(st.just("cut"), st.floats(0, 1), st.none()),
    st.tuples(st.just("noise"), st.floats(0, 1), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("zeros"), st.floats(0, 1), st.integers(1, 4096)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=64)),
)
#: a few injuries (shown short when a test fails, unlike the injured bytes)
injuries = st.lists(injury, min_size=1, max_size=4).map(Injuries)


def damaged_bytes(data: bytes, start: int = 0):
    """``data`` with a few byte-level injuries at or after ``start``: bits flipped, the end cut, a range overwritten
    with noise or zeros, noise inserted."""
    return injuries.map(lambda hurt: hurt.apply(data, start))
