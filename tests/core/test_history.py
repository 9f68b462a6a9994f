"""History keeps every step event; its columns are read as arrays, whatever the order of appends and reads."""

import numpy as np

from visualizer.core.training.events import StepEvent
from visualizer.core.training.history import History


def _event(step: int) -> StepEvent:
    if step % 7 == 0:  # an evaluation step; every third one with a regularisation term
        return StepEvent(step, step // 7, 1.0 / (step + 1), 0.1, step * 0.01, val_loss=2.0 / (step + 1),
                         train_metric=step / 1000, val_metric=None if step % 2 else step / 2000,
                         eval_train_loss=0.5, penalty=0.25 if step % 3 == 0 else None)
    return StepEvent(step, step // 7, 1.0 / (step + 1), 0.1, step * 0.01)


def test_columns_hold_every_event_through_reads_between_appends_and_growth():
    h = History()
    events = [_event(i) for i in range(3000)]  # past the first capacity (1,024 rows, 64 evaluations) twice
    for i, e in enumerate(events):
        h.append(e)
        if i % 611 == 0:  # read in between: the rows so far, no more
            assert len(h.steps) == i + 1 == len(h)
    assert len(h) == 3000
    np.testing.assert_array_equal(h.steps, np.arange(3000))
    np.testing.assert_array_equal(h.train_loss, [e.train_loss for e in events])
    np.testing.assert_array_equal(h.wall_s, [e.wall_s for e in events])
    np.testing.assert_array_equal(h.penalty, [np.nan if e.penalty is None else e.penalty for e in events])
    evals = [e for e in events if e.val_loss is not None]
    np.testing.assert_array_equal(h.eval_steps, [e.step for e in evals])
    np.testing.assert_array_equal(h.val_metric, [np.nan if e.val_metric is None else e.val_metric for e in evals])
    np.testing.assert_array_equal(h.eval_train_loss, [0.5] * len(evals))
    assert h.eval_at(21) == 3 and h.eval_at(22) is None


def test_an_evaluation_with_a_nan_loss_is_still_an_evaluation():
    h = History()
    h.extend([_event(1), StepEvent(2, 1, float("nan"), 0.1, 0.02, val_loss=float("nan"))])
    np.testing.assert_array_equal(h.eval_steps, [2.0])
    assert np.isnan(h.val_loss[0]) and np.isnan(h.train_metric[0])
