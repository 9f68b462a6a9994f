"""The live landscape's path buffer: rows appended in order, handed out as views that later growth never changes."""

import numpy as np
import pytest

from visualizer.core.landscape.path_buffer import PathBuffer


def test_rows_are_what_was_appended_and_views_survive_growth_and_thinning():
    rng = np.random.default_rng(0)
    vectors = [rng.normal(size=7) for _ in range(40)]
    buf = PathBuffer()
    assert not buf and len(buf) == 0
    buf.extend(vectors[:3])
    first = buf[-1]  # a view handed out (as a surface request takes it)
    held = first.copy()
    for k in range(3, 40, 5):
        buf.extend(vectors[k:k + 5])
    np.testing.assert_array_equal(buf.rows(), np.stack(vectors).astype(np.float32))
    np.testing.assert_array_equal(first, held)  # growth copied the rows to a new array: the view is unchanged
    assert buf.rows().dtype == np.float32 and len(buf) == 40
    view = buf[-5:]
    kept = view.copy()
    buf.keep([0, *range(1, 39, 2), 39])
    np.testing.assert_array_equal(view, kept)
    np.testing.assert_array_equal(buf.rows(), np.stack(vectors).astype(np.float32)[[0, *range(1, 39, 2), 39]])
    buf.extend(vectors[:1])
    np.testing.assert_array_equal(buf[-1], vectors[0].astype(np.float32))
    buf.clear()
    assert len(buf) == 0 and buf.rows().shape[0] == 0


def test_a_vector_of_another_length_is_refused():
    buf = PathBuffer()
    buf.extend([np.zeros(4)])
    with pytest.raises(ValueError, match="4 weights"):
        buf.extend([np.zeros(5)])
