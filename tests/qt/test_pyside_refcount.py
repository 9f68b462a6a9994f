"""Guards the PySide6 pin (<6.12): 6.12.0 drops a reference to None on every Qt call that returns void,
and a live-updating window aborts within seconds ("Fatal Python error: none_dealloc")."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QPointF


def test_void_qt_calls_keep_the_reference_count_of_none():
    obj = QObject()
    point = QPointF()
    before_none, before_true = sys.getrefcount(None), sys.getrefcount(True)
    for i in range(1000):
        obj.setObjectName("name")  # returns void
        point.setX(float(i))  # returns void
        obj.blockSignals(True)  # returns a bool
    after_none, after_true = sys.getrefcount(None), sys.getrefcount(True)
    # a leak-free binding leaves both counts where they were (a little noise either way is harmless);
    # the 6.12.0 bug takes one reference per call: 1,000 or 2,000 here
    assert after_none >= before_none - 50, (before_none, after_none)
    assert after_true >= before_true - 50, (before_true, after_true)
