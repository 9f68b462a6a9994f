"""How the prediction view draws a snapshot's picture (a mixin of TrainingViews): the decision boundary, the fitted
curve or the confusion matrix, whichever the snapshot carries."""

from __future__ import annotations

from visualizer.core.model.predict import evaluation_set


class ViewPictures:
    def _draw_prediction(self, snap) -> None:
        snap = self.pictured or snap  # the latest snapshot that carries a picture
        if snap is self._prediction_drawn:  # only the timed snapshots bring a new one: no redraw of the same
            return
        self._prediction_drawn = snap
        ds = getattr(self, "_dataset", None)
        for name, draw in self._pictures.items():  # the snapshot carries each view in the field of its name
            picture = getattr(snap, name)
            if picture is not None:
                draw(picture, ds)
                return

    def _draw_boundary(self, grid, ds) -> None:
        self.boundary.set_grid(grid.xs, grid.ys, grid.probs)

    def _draw_curve(self, curve, ds) -> None:
        if ds is not None:
            self.boundary.set_curve(curve[0], curve[1], ds.X_train, ds.y_train, ds.X_val, ds.y_val)

    def _draw_confusion(self, matrix, ds) -> None:
        if ds is not None:
            part = evaluation_set(ds)[2]
            self.confusion.set_matrix(matrix, list(ds.class_names), title=f"Confusion matrix ({part} set)")
            self.prediction.setCurrentWidget(self.confusion)  # in place of the note shown before the run
