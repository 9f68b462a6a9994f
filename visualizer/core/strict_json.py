"""Strict JSON for every file the app writes: a number that is not finite (NaN, ±infinity, which plain ``json``
writes as the non-standard ``NaN``/``Infinity`` that most readers refuse) becomes null, and the document names
each one in ``non_finite`` (``{"final.last_batch_loss": "inf"}``), so that nothing is silently lost."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

#: the top-level key that names the values written as null because they were not finite
NON_FINITE_KEY = "non_finite"


def _kind(value: float) -> str:
    return "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"


def finite_only(value: Any, path: str = "", found: dict[str, str] | None = None) -> tuple[Any, dict[str, str]]:
    """``value`` with every non-finite float replaced by None (numpy scalars and arrays made plain), and the
    dotted path of each replaced one (``final.val_loss``, ``folds.2.loss``) with what it was."""
    found = {} if found is None else found
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value, found
    if isinstance(value, float):
        if math.isfinite(value):
            return value, found
        found[path or "value"] = _kind(value)
        return None, found
    if isinstance(value, dict):
        return {k: finite_only(v, f"{path}.{k}" if path else str(k), found)[0] for k, v in value.items()}, found
    if isinstance(value, (list, tuple)):
        return [finite_only(v, f"{path}.{i}" if path else str(i), found)[0] for i, v in enumerate(value)], found
    return value, found


def clean(document: dict) -> dict:
    """``document`` as it is written: non-finite numbers null, each named under NON_FINITE_KEY (when any)."""
    out, found = finite_only(document)
    if found:
        out[NON_FINITE_KEY] = found
    return out


def dumps(document: dict, **options) -> str:
    """``document`` as strict JSON (``json.dumps`` options pass through): non-finite numbers are null and named
    under NON_FINITE_KEY; raises ValueError rather than write a non-standard constant."""
    return json.dumps(clean(document), allow_nan=False, **options)


def loads_strict(text: str) -> Any:
    """Parse JSON, refusing the non-standard NaN/Infinity constants (what a strict reader does)."""
    def refuse(name: str):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)
