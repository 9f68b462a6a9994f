"""Python's cyclic garbage collected on the GUI thread only.

A job's worker thread (loading a run, a landscape, the training process's reader) allocates, and CPython runs its
cyclic collector on whichever thread crosses the threshold. When that frees a Qt object left in a cycle by a
closed window (pyqtgraph's menus are), its C++ destructor runs on the worker thread and waits for Qt while the GUI
thread waits for the GIL: the window hangs for good (seen once in the test suite: a run loaded for compression
garbage-collected a closed window's ViewBox menu). pyqtgraph's GarbageCollector is the known remedy: automatic
collection off, and the same generational collection run by a timer on the GUI thread. It is written out here
(``_Collector``, the same test of the thresholds) because importing it imports pyqtgraph, 0.2-0.3 s of the
window's start, which now paints before pyqtgraph is loaded.
"""

from __future__ import annotations

import threading

#: how often the GUI thread looks whether a collection is due (it collects only past the usual thresholds)
INTERVAL_S = 0.25
_collector = None


def collect_on_gui_thread() -> None:
    """Turn automatic collection off and collect on a GUI-thread timer from now on (once; needs the QApplication and
    must be called on its thread)."""
    global _collector
    if _collector is not None or threading.current_thread() is not threading.main_thread():
        return
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        return
    _collector = _Collector(INTERVAL_S)


class _Collector:
    """Automatic collection off; a GUI-thread timer collects each generation past its usual threshold, as
    CPython would (pyqtgraph.util.garbage_collector.GarbageCollector's check)."""

    def __init__(self, interval_s: float) -> None:
        import gc

        from PySide6.QtCore import QTimer

        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer()
        self.timer.timeout.connect(self.check)
        self.timer.start(int(interval_s * 1000))

    def check(self) -> None:
        import gc

        l0, l1, l2 = gc.get_count()
        if l0 > self.threshold[0]:
            gc.collect(0)
            if l1 > self.threshold[1]:
                gc.collect(1)
                if l2 > self.threshold[2]:
                    gc.collect(2)


def freeze_startup() -> int:
    """Leave what is alive once the window is up and its data set loaded (the imported modules with torch,
    pyqtgraph and scikit-learn, the window and its plots: about 430,000 objects) out of every later collection
    (gc.freeze), and return how many. Since the collection moved to the GUI thread, a full one walked all of them
    there: 330-390 ms of a frozen window every half minute or so of training (pyqtgraph's timer collects the
    oldest generation after every 11 younger collections); walking only what came after, 80-100 ms at the end of
    a 6,750-step run of the digits MLP, about 1 ms before it. Objects frozen now are still freed when their last
    reference goes; only a cycle among them is never collected (they live as long as the window)."""
    import gc

    gc.freeze()
    return gc.get_freeze_count()


def collect_if_due() -> None:
    """What the timer does, now (on the GUI thread: e.g. between tests, which may not run an event loop)."""
    if _collector is not None and threading.current_thread() is threading.main_thread():
        _collector.check()
