"""The weights of a run's path, one flat row per snapshot, kept in one growing array.

The live landscape used a list of vectors and stacked it for every surface request and every new plane: for the
digits MLP (26k weights) and 500 snapshots that is a 52 MB copy on the GUI thread each time. Here appending is
amortised and the rows are handed out as views, never copied.
"""

from __future__ import annotations

import numpy as np


class PathBuffer:
    """Flat float32 weight vectors appended in order; ``rows()`` is a view of them (rows already handed out are
    never written again: growing or thinning makes a new array)."""

    def __init__(self) -> None:
        self._data = np.zeros((0, 0), np.float32)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def __bool__(self) -> bool:
        return self._n > 0

    def __getitem__(self, index):
        return self.rows()[index]

    def rows(self) -> np.ndarray:
        """The (n, P) rows so far (a view)."""
        return self._data[:self._n]

    def extend(self, vectors) -> None:
        """Append flat vectors (all of the buffer's length P)."""
        if not len(vectors):
            return
        new = [np.asarray(v).ravel() for v in vectors]  # (written into the buffer once, as float32)
        width = self._data.shape[1] if self._n else new[0].size
        wrong = next((v.size for v in new if v.size != width), None)
        if wrong is not None:
            raise ValueError(f"a path of {width} weights cannot take vectors of {wrong}")
        need = self._n + len(new)
        if not self._n or need > len(self._data) or self._data.shape[1] != width:
            grown = np.empty((max(need, 2 * len(self._data), 16), width), np.float32)
            if self._n:
                grown[:self._n] = self._data[:self._n]
            self._data = grown
        for row, vector in enumerate(new, start=self._n):
            self._data[row] = vector
        self._n = need

    def keep(self, indices) -> None:
        """Keep only the rows at ``indices`` (in that order), in a new array."""
        kept = self.rows()[list(indices)]
        self._data, self._n = kept, len(kept)

    def clear(self) -> None:
        self._data, self._n = np.zeros((0, 0), np.float32), 0
