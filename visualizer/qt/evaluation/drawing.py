"""What the cross-validation window draws from its results: the tables, the strip plot, and the replay of the
fold and step the timeline points at (curves, decision boundary, highlights, confusion matrix)."""

from __future__ import annotations

import numpy as np

from visualizer.qt.evaluation.replay import SEQUENTIAL
from visualizer.qt.evaluation.tables import METRIC_TITLES, fill_metrics_table
from visualizer.qt.plots import FoldCurve


class ResultsDrawing:
    """Mixin of EvaluationWindow: ``results``, ``raw`` and the views ``v`` in, drawing out."""

    def _summary_text(self) -> str:
        from visualizer.core.evaluation.folds import metric_names, summarize

        names = metric_names(self.raw.task)
        summary = summarize(self.results, self.spec, self.raw.task, len(self.raw.class_names))
        diverged = summary.get("diverged_folds", [])
        tail = f" {len(diverged)} fold(s) diverged: their figures are not finite." if diverged else ""
        if self.spec.method == "loo":  # one validation sample per fold: precision, recall, F1, R² only pooled
            pooled = ", ".join(f"{METRIC_TITLES[n]} {summary['pooled'][n]:.4f}" for n in names[1:])
            return (f"{len(self.results)} fold(s), one validation sample each: pooled over all of them, {pooled}. "
                    "The table shows what one sample can say: its loss and "
                    f"{'whether it was right' if self.raw.task == 'classification' else 'its squared error'}."
                    + tail)
        stats = summary["metrics"]
        parts = [f"{METRIC_TITLES[n]} {stats[n]['mean']:.4f} ± {stats[n]['std']:.4f}" for n in names[:2]
                 if stats[n]["mean"] is not None]
        return f"{len(self.results)} fold(s): " + ", ".join(parts) + " (mean ± std over the folds)." + tail

    def _refresh_results(self) -> None:
        from visualizer.core.evaluation.folds import fold_metric_names

        v, results = self.v, self.results
        names = fold_metric_names(self.raw.task, self.spec.method)  # leave-one-out: what one sample can say
        self._syncing = True
        fill_metrics_table(v.table, results, names)
        self._syncing = False
        v.metrics_plot.set_metrics({n: [r.metrics[n] for r in results] for n in names}, self.v.replay.fold
                                   if results else None)
        v.curves.set_curves([FoldCurve(r.steps, r.train_loss, r.eval_steps, r.val_loss) for r in results])
        v.set_confusion_folds([r.fold for r in results])
        v.replay.set_folds([int(r.steps[-1]) if r.steps.size else 0 for r in results])
        v.boundary.legend.setVisible(bool(results))
        if not results:
            v.curves.clear()
            v.boundary.clear()
            v.confusion.clear()
            return
        if self._follow:
            v.replay.set_position(len(results) - 1, results[-1].steps[-1] if results[-1].steps.size else 0)
        self._shown_fold = None
        self._show_replay()

    def _stop_following(self) -> None:
        self._follow = False

    def _show_replay(self) -> None:
        """Draw the fold and step the timeline points at: curves, boundary, highlights, confusion."""
        if not self.results:
            return
        v, replay = self.v, self.v.replay
        i, step = min(replay.fold, len(self.results) - 1), replay.step
        r = self.results[i]
        folds = (i,) if replay.mode == SEQUENTIAL else tuple(range(len(self.results)))
        v.curves.show_folds(folds, step, highlight=i)
        if i != self._shown_fold:
            self._shown_fold = i
            v.fold_map.highlight(r.fold - 1)
            v.metrics_plot.highlight(i)
            self._syncing = True
            v.table.selectRow(i)
            if v.confusion_combo.currentIndex() > 0:
                v.confusion_combo.setCurrentIndex(i + 1)
            self._syncing = False
            self._show_confusion()
            if self._is_2d():
                v.boundary.set_points(*self._fold_points(i))
        if self._is_2d():
            self._show_boundary(i, step)

    def _fold_points(self, i: int) -> tuple:
        """The fold's train and validation points, standardised as its network saw them."""
        from visualizer.core.data.sets import dataset_from_split

        if i not in self._points:
            r, raw = self.results[i], self.raw
            ds = dataset_from_split("", raw, r.train_idx, r.val_idx)
            P_train, P_val = ds.plane_points()
            self._points[i] = (P_train, ds.y_train, P_val, ds.y_val)
        return self._points[i]

    def _show_boundary(self, i: int, step: int) -> None:
        r, v = self.results[i], self.v
        if not r.boundaries:
            v.set_boundary_title(f"Fold {r.fold} (no boundary recorded for this many folds)")
            return
        steps = np.array([s for s, _grid in r.boundaries])
        j = max(int(np.searchsorted(steps, step, side="right")) - 1, 0)
        if (i, j) != self._grid_key:
            self._grid_key = (i, j)
            grid = r.boundaries[j][1]
            v.boundary.set_grid(grid.xs, grid.ys, grid.probs)
            v.set_boundary_title(f"Decision boundary — fold {r.fold}, step {int(steps[j])}")

    def _show_confusion(self) -> None:
        v = self.v
        if not self.results or self.raw.task != "classification":
            return
        choice = v.confusion_combo.currentIndex()
        if choice <= 0:
            matrix, title = sum(r.confusion for r in self.results), f"Summed over {len(self.results)} fold(s)"
        else:
            r = self.results[min(choice - 1, len(self.results) - 1)]
            matrix, title = r.confusion, f"Fold {r.fold} (validation)"
        v.confusion.set_matrix(matrix, list(self.raw.class_names), title=title)

    def _on_confusion_choice(self, index: int) -> None:
        if self._syncing:
            return
        if index > 0 and index - 1 != self.v.replay.fold:
            self._follow = False
            self.v.replay.set_position(index - 1, self.v.replay.step)
        self._show_confusion()

    def _on_table_selection(self) -> None:
        if self._syncing:
            return
        rows = {index.row() for index in self.v.table.selectionModel().selectedRows()}
        if len(rows) == 1 and (row := rows.pop()) < len(self.results) and row != self.v.replay.fold:
            self._follow = False
            self.v.replay.set_position(row, self.v.replay.step)
