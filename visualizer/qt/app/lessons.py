"""Lessons: presets that set up a whole demonstration (a window, a file, what to press) with a short explanation.

A registry, so that the Presets menu, the README and the tests read one list. Each lesson names what it opens
and the window does the rest through its public methods (``open_experiment``, ``open_playground``, …).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from visualizer.core.resources import resources_dir


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    explanation: str
    kind: str  # playground | train | compress | evaluate
    file: str  # relative to resources/
    tab: str = ""  # the right-hand tab a train lesson shows (its text), "" for the prediction

    @property
    def path(self) -> Path:
        return resources_dir() / self.file


LESSONS: tuple[Lesson, ...] = (
    Lesson("momentum_rosenbrock", "Momentum against SGD on Rosenbrock",
           "Rosenbrock's valley is long, narrow and curved. Plain SGD crawls along its floor; momentum builds up "
           "speed along the valley and reaches the minimum at (1, 1) far sooner. Press Play.",
           "playground", "playground/momentum_vs_sgd_rosenbrock.toml"),
    Lesson("adam_quadratic", "Adam on an ill-conditioned quadratic",
           "One direction is 50 times steeper than the other. SGD's step is capped by the steep direction, so it "
           "zig-zags across the valley on its way; momentum overshoots and swings; Adam rescales each coordinate "
           "by its gradient's running size and curves smoothly to the minimum. Press Play.",
           "playground", "playground/adam_ill_conditioned.toml"),
    Lesson("prune_digits", "Pruning the digits MLP to 90 %",
           "Trains the 64-128-128-10 digits network, then opens the compression window with 90 % of the weights "
           "removed by magnitude (L1): compare the before/after histograms and the accuracy, then fine-tune.",
           "compress", "experiments/digits.toml"),
    Lesson("kfold_iris", "5-fold cross-validation on iris",
           "Stratified 5-fold on iris: five networks, each validated on a fifth of the flowers it never saw. "
           "Replay them fold by fold; the spread of the five accuracies is how much one hold-out score can vary.",
           "evaluate", "experiments/iris.toml"),
    Lesson("diverging_lr", "A diverging learning rate",
           "Plain SGD at learning rate 0.5 on a sine regression: each step overshoots and the loss grows by "
           "orders of magnitude until it is infinite, and the run stops with the step it happened. Then set the "
           "learning rate to 0.05 and train again.",
           "train", "lessons/diverging_lr.toml"),
    Lesson("edge_of_stability", "Edge of stability (full-batch gradient descent)",
           "Cohen et al. 2021, figure 1: full-batch gradient descent at learning rate 0.08 on the sine regression. "
           "Watch the Sharpness tab: the top eigenvalue of the loss's Hessian rises until it reaches 2/η = 25 and "
           "then hovers there, while the loss keeps falling with spikes. The same at η = 0.05 (2/η = 40): "
           "resources/lessons/edge_of_stability_slow.toml.",
           "train", "lessons/edge_of_stability.toml", tab="Sharpness"),
)


def start_lesson(window, lesson: Lesson) -> None:
    """Set ``window`` (the main window) up for ``lesson`` and show its explanation; a lesson whose file is missing or
    damaged says so in the window's message line and changes nothing."""
    import html

    from visualizer.core.errors import VisualizerError
    from visualizer.core.playground.functions import load_preset

    if lesson.kind == "playground":
        try:
            load_preset(lesson.path)  # the playground window would raise while it is built
        except VisualizerError as exc:
            window.show_message(f"The lesson '{lesson.title}' cannot start: {exc}", error=True)
            return
    elif not window.open_experiment(lesson.path, as_path=None):
        return
    window.lesson_bar.setText(f"<b>{html.escape(lesson.title)}</b> — {html.escape(lesson.explanation)}")
    window.lesson_bar.show()
    if lesson.kind == "playground":
        window.open_playground(lesson.path)
    elif lesson.kind == "evaluate":
        window.open_evaluation(method="stratified", k=5, start=True)
    elif lesson.kind == "compress":
        window.after_run = lambda: window.open_compression(prune=("l1", 0.9))
        window.train_from_start()
    else:
        tabs = window.views.right_tabs
        for i in range(tabs.count()):
            if lesson.tab and tabs.tabText(i) == lesson.tab:
                tabs.setCurrentIndex(i)
        window.train_from_start()


class LessonBar(QLabel):
    """The explanation of the lesson in progress, above the views; a click hides it."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("lessonBar")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setStyleSheet("QLabel { background: #e8f1fb; color: #0b3a67; padding: 6px; "
                           "border: 1px solid #b6d4f2; border-radius: 3px; }")
        self.setToolTip("What this lesson shows; click to hide")
        self.hide()

    def mousePressEvent(self, event) -> None:  # Qt override: a click dismisses the explanation
        self.hide()
        super().mousePressEvent(event)
