"""The loss plot's readout: the values of every series at the step nearest the mouse, beside a marker."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF

from visualizer.qt.plots.curves import nearest as _nearest

_EMPTY = np.empty(0)


def _fmt(value: float) -> str:
    return f"{value:.4g}" if np.isfinite(value) else "–"


class LossReadout:
    """Mixin of LossPlot (its plots, series, steps, cursor lines, marker and readout): follows the mouse."""

    def _on_mouse_moved(self, args: tuple[QPointF]) -> None:
        """Show "step N: loss L" (and the other series) at the step nearest the mouse."""
        pos = args[0]
        plot = next(
            (p for p in (self.loss_plot, self.metric_plot) if p.vb.sceneBoundingRect().contains(pos)),
            None,
        )
        i = _nearest(self._steps, plot.vb.mapSceneToView(pos).x()) if plot is not None else -1
        if i < 0 or not self._series:
            self._hide_readout()
            return
        s = self._series
        step, loss = self._steps[i], s["train_loss"][i]
        lines = [f"step {step:.0f}: loss {_fmt(loss)} (smoothed {_fmt(s['loss_smooth'][i])})"]
        if s.get("penalty", _EMPTY).size == self._steps.size and np.isfinite(s["penalty"][i]):
            lines.append(f"of which regularization {_fmt(s['penalty'][i])}")
        j = _nearest(self._eval_steps, step)
        if not self._metric_at_eval and s["train_metric"].size == self._steps.size:
            lines.append(f"train {self._metric_name} {_fmt(s['train_metric'][i])}")
        elif self._metric_at_eval and 0 <= j < s["train_metric"].size:
            lines.append(f"train {self._metric_name} @ {self._eval_steps[j]:.0f}: {_fmt(s['train_metric'][j])}")
        if 0 <= j < s["val_loss"].size and np.isfinite(s["val_loss"][j]):
            val_metric = s["val_metric"][j] if s["val_metric"].size > j else np.nan
            lines.append(
                f"validation @ {self._eval_steps[j]:.0f}: loss {_fmt(s['val_loss'][j])}, "
                f"{self._metric_name} {_fmt(val_metric)}"
            )
        self.readout.setText("\n".join(lines))

        y = s["loss_smooth"][i] if not np.isfinite(loss) else loss
        y_view = np.log10(y) if self._log and y > 0 else (y if not self._log else np.nan)
        for line in self._cursor_lines:
            line.setPos(step)
            line.show()
        self.readout.show()
        (x0, x1), (y0, y1) = self.loss_plot.vb.viewRange()
        if np.isfinite(y_view):
            self._marker.setData([step], [y_view])
            self._marker.show()
        else:
            self._marker.hide()
            y_view = y1
        anchor_x = 1.0 if step > (x0 + x1) / 2 else 0.0
        anchor_y = 1.0 if y_view < (y0 + y1) / 2 else 0.0
        self.readout.setAnchor((anchor_x, anchor_y))
        self.readout.setPos(step, y_view)
