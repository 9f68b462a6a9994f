"""The parent side of the screenshot suite: where the pictures go, what each must show to count as a picture (not
blank, the screen's size, its window painted where it stands), and the index.html a person browses them with."""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).parents[2]
#: distinct colours a real picture of a window has at least (anti-aliased text and plots give thousands; a blank or
#: flat window a handful)
MIN_COLOURS = 400
#: the side of the blocks compared with the bare screen: a block equal to it is screen the window did not paint
BLOCK = 8


def gallery_dir() -> Path:
    """Where the pictures go: $SCREENSHOTS_DIR, or out/screenshots/ in the repository (git-ignored)."""
    return Path(os.environ.get("SCREENSHOTS_DIR") or ROOT / "out" / "screenshots").resolve()


def load(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def colours(pixels: np.ndarray) -> int:
    flat = pixels.reshape(-1, 3).astype(np.uint32)
    return len(np.unique((flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]))


def bare_blocks(pixels: np.ndarray, bare: np.ndarray, box: tuple[int, int, int, int]) -> int:
    """How many whole BLOCK x BLOCK blocks inside ``box`` (x, y, w, h) show the bare screen (Xvfb's -retro weave)."""
    x, y, w, h = box
    x0, y0 = -(-x // BLOCK) * BLOCK, -(-y // BLOCK) * BLOCK
    x1, y1 = (x + w) // BLOCK * BLOCK, (y + h) // BLOCK * BLOCK
    if x1 <= x0 or y1 <= y0:
        return 0
    same = np.all(pixels[y0:y1, x0:x1] == bare[y0:y1, x0:x1], axis=2)
    blocks = same.reshape((y1 - y0) // BLOCK, BLOCK, (x1 - x0) // BLOCK, BLOCK)
    return int(blocks.all(axis=(1, 3)).sum())


@dataclass
class Verdict:
    """What was found wrong with one picture (empty: nothing)."""

    file: str
    problems: list[str]


def check_picture(entry: dict, folder: Path, bare: np.ndarray) -> Verdict:
    """The picture is the whole screen, has the colours of a real window, and its window is painted wherever it
    is on the screen (all of the screen when it ``fills`` it)."""
    problems = []
    pixels = load(folder / entry["file"])
    height, width = pixels.shape[:2]
    expected = tuple(int(v) for v in entry["size"].split("x"))
    if (width, height) != expected:
        problems.append(f"the picture is {width}x{height}, the screen {entry['size']}")
        return Verdict(entry["file"], problems)
    x, y, w, h = entry["window"]
    if entry["fills"] and (x, y, w, h) != (0, 0, width, height):
        problems.append(f"the window stands at {(x, y, w, h)}, not over the whole screen {width}x{height}")
    # the part of the window on the screen (a window larger than the screen is reported, not failed)
    left, top = max(x, 0), max(y, 0)
    right, bottom = min(x + w, width), min(y + h, height)
    if right - left < 100 or bottom - top < 100:
        problems.append(f"the window {(x, y, w, h)} is (almost) off the screen")
        return Verdict(entry["file"], problems)
    box = (left, top, right - left, bottom - top)
    inside = pixels[top:bottom, left:right]
    n = colours(inside)
    if n < MIN_COLOURS:
        problems.append(f"the window shows only {n} distinct colours (blank or unpainted?)")
    unpainted = bare_blocks(pixels, bare, box)
    if unpainted:
        problems.append(f"{unpainted} blocks of {BLOCK}x{BLOCK} px inside the window show the bare screen")
    return Verdict(entry["file"], problems)


def overflow(entry: dict) -> str:
    """A note when the window is larger than the screen (its parts off the screen are not in the picture)."""
    x, y, w, h = entry["window"]
    width, height = (int(v) for v in entry["size"].split("x"))
    if x < 0 or y < 0 or x + w > width or y + h > height:
        return f"window {w}x{h} at ({x}, {y}) does not fit the {entry['size']} screen"
    return ""


# -- the index ----------------------------------------------------------------------------------------------
def manifests(folder: Path) -> list[dict]:
    found = []
    for path in sorted(folder.glob("*@*.json")):
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return found


def write_index(folder: Path) -> Path:
    """index.html: every scene's pictures, the sizes side by side, each with its state, size and theme."""
    by_scene: dict[str, dict[str, dict]] = {}
    sizes: set[str] = set()
    for manifest in manifests(folder):
        scene = by_scene.setdefault(manifest["scene"], {})
        sizes.add(manifest["size"])
        for entry in manifest["pictures"]:
            scene.setdefault(entry["name"], {})[manifest["size"]] = entry
        if manifest.get("error"):
            scene.setdefault("~error", {})[manifest["size"]] = {"error": manifest["error"]}
    order = sorted(sizes, key=lambda s: [int(v) for v in s.split("x")])
    rows = []
    for scene in sorted(by_scene):
        rows.append(f"<h2 id='{html.escape(scene)}'>{html.escape(scene)}</h2>")
        for per_size in by_scene[scene].values():
            cells = []
            for size in order:
                entry = per_size.get(size)
                if entry is None:
                    cells.append("<td></td>")
                elif "error" in entry:
                    cells.append(f"<td><pre class='error'>{html.escape(entry['error'][-2000:])}</pre></td>")
                else:
                    note = overflow(entry)
                    src = html.escape(entry["file"])
                    caption = (f"<b>{html.escape(entry['state'])}</b><br>{html.escape(size)}, theme "
                               f"{html.escape(str(entry['theme']))}"
                               + (f", scale {entry['scale']:g}" if entry.get("scale", 1) != 1 else "")
                               + f" — <code>{src}</code>"
                               + (f"<br><span class='note'>{html.escape(note)}</span>" if note else ""))
                    cells.append(f"<td><a href='{src}'><img src='{src}' loading='lazy'></a>"
                                 f"<div>{caption}</div></td>")
            rows.append("<table><tr>" + "".join(cells) + "</tr></table>")
    figures = sorted((folder / "figures").glob("*.*")) if (folder / "figures").is_dir() else []
    if figures:  # the command line's figures (tests/screenshots/figures.py)
        by_scene["figures"] = {}
        rows.append("<h2 id='figures'>figures (the command line's, offscreen)</h2><table><tr>"
                    + "".join(f"<td><a href='figures/{html.escape(p.name)}'><img src='figures/{html.escape(p.name)}' "
                              f"loading='lazy'></a><div><code>figures/{html.escape(p.name)}</code></div></td>"
                              + ("</tr><tr>" if i % 2 else "") for i, p in enumerate(figures))
                    + "</tr></table>")
    contents = " · ".join(f"<a href='#{html.escape(s)}'>{html.escape(s)}</a>" for s in sorted(by_scene))
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Optimization Visualizer: screenshots</title>
<style>
body {{ font-family: sans-serif; margin: 1em; }}
table {{ border-collapse: collapse; margin-bottom: 1em; }}
td {{ vertical-align: top; padding: 4px 8px; width: 50%; }}
img {{ max-width: 100%; border: 1px solid #999; }}
.note, .error {{ color: #b00020; }}
pre {{ white-space: pre-wrap; font-size: 80%; }}
</style></head><body>
<h1>Screenshots</h1>
<p>Taken by <code>python -m pytest -m screenshots</code> (tests/screenshots/): each scene in a fresh window on an
Xvfb screen of each size; click a picture for full size. Sizes: {", ".join(order)}.</p>
<p>{contents}</p>
{chr(10).join(rows)}
</body></html>
"""
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
