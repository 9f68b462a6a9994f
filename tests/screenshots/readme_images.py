"""Regenerate the README's pictures (resources/screenshots/) from the screenshot suite's folder:

    python -m tests.screenshots.readme_images [--from DIR] [--check]

Each README name comes from one picture of the suite (the main window at 1366x768, the projector size; presentation
mode and 150 % scaling at 1920x1080; the tool windows at 1920x1080 cut to the window, where it has its own size) or
from the command line's figures. Run the suite first (`python -m pytest -m screenshots`). ``--check`` only says
what is missing."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

from PIL import Image

from tests.screenshots.pictures import ROOT, gallery_dir, manifests

TARGET = ROOT / "resources" / "screenshots"

#: README name -> (picture in the suite's folder, cut to its window)
README_IMAGES: dict[str, tuple[str, bool]] = {
    "landscape_2d.png": ("1366x768/main-moons-landscape-2d-mid-run.png", False),
    "landscape_3d.png": ("1366x768/main-moons-landscape-3d.png", False),
    "window_moons.png": ("1366x768/main-moons-finished.png", False),
    "window_digits.png": ("1366x768/main-digits-finished.png", False),
    "window_dark.png": ("1366x768/themes-dark.png", False),
    "window_150.png": ("1920x1080/scaled-mid-run.png", False),
    "presentation.png": ("1920x1080/presentation-presentation.png", False),
    "presentation_panels.png": ("1920x1080/presentation-presentation-panels.png", False),
    "evaluation_replay.png": ("1920x1080/evaluation-replay.png", True),
    "evaluation_overlay.png": ("1920x1080/evaluation-overlay.png", True),
    "compression_prune.png": ("1920x1080/compression-prune.png", True),
    "compression_sensitivity.png": ("1920x1080/compression-sensitivity.png", True),
    "compression_quantize.png": ("1920x1080/compression-quantize.png", True),
    "compression_distill.png": ("1920x1080/compression-distill.png", True),
    "compression_shrink.png": ("1920x1080/compression-shrink.png", True),
    "playground_rosenbrock.png": ("1920x1080/playground-racing.png", True),
    "race_network.png": ("1920x1080/race-finished.png", True),
    "replay.png": ("1920x1080/runs-replay.png", True),
    "sweep_running.png": ("1920x1080/sweep-running.png", True),
    "sweep.png": ("1920x1080/sweep-finished.png", True),
    "replay_compare.png": ("1920x1080/runs-replay-compare.png", True),
    "moons_boundary.png": ("figures/moons_boundary.png", False),
    "moons_loss.png": ("figures/moons_loss.png", False),
    "digits_histograms.png": ("figures/digits_histograms.png", False),
    "digits_confusion.png": ("figures/digits_confusion.png", False),
    "sine_fit.png": ("figures/sine_fit.png", False),
    "landscape_pca.png": ("figures/landscape_pca.png", False),
    "moons_landscape.gif": ("figures/moons_landscape.gif", False),
}


def windows(folder: Path) -> dict[str, list[int]]:
    """Each picture's window rectangle (x, y, w, h) on its screen, from the scenes' manifests."""
    return {entry["file"]: entry["window"] for m in manifests(folder) for entry in m["pictures"]}


def regenerate(folder: Path, target: Path = TARGET) -> list[Path]:
    """Copy (or cut to its window) each README picture from ``folder`` into ``target``; raises when one is missing."""
    missing = [f"{name} <- {source}" for name, (source, _) in README_IMAGES.items() if not (folder / source).exists()]
    if missing:
        raise FileNotFoundError("not in the suite's folder (run `python -m pytest -m screenshots` first):\n  "
                                + "\n  ".join(missing))
    boxes = windows(folder)
    written = []
    for name, (source, cut) in README_IMAGES.items():
        path = target / name
        if cut and source in boxes:
            x, y, w, h = boxes[source]
            with Image.open(folder / source) as image:
                left, top = max(x, 0), max(y, 0)
                box = (left, top, min(x + w, image.width), min(y + h, image.height))
                image.crop(box).save(path, optimize=True)
        else:
            shutil.copyfile(folder / source, path)
        written.append(path)
    return written


def unused(target: Path = TARGET) -> list[str]:
    """Pictures in resources/screenshots/ that the README does not name (candidates to delete)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return sorted(p.name for p in target.iterdir() if p.is_file() and f"screenshots/{p.name}" not in readme)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="folder", type=Path, default=None,
                        help="the suite's folder (default: $SCREENSHOTS_DIR or out/screenshots/)")
    parser.add_argument("--check", action="store_true", help="only say which pictures are missing")
    args = parser.parse_args(argv)
    folder = (args.folder or gallery_dir()).resolve()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    not_covered = sorted(set(re.findall(r"\]\(resources/screenshots/([^)]+)\)", readme)) - set(README_IMAGES))
    if not_covered:
        print(f"the README shows pictures this script does not make: {', '.join(not_covered)}", file=sys.stderr)
    try:
        if args.check:
            missing = [s for s, _ in README_IMAGES.values() if not (folder / s).exists()]
            print(json.dumps({"folder": str(folder), "missing": missing}, indent=1))
            return 1 if missing else 0
        written = regenerate(folder)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(written)} pictures into {TARGET.relative_to(ROOT)}/ from {folder}")
    extra = unused()
    if extra:
        print(f"not shown by the README: {', '.join(extra)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
