"""Real images for the quality suite: the Open Clip Art Library (not a benchmark itself).

Debian's ``openclipart-png`` package (public domain; ``apt-get install openclipart-png``)
puts about 8,100 PNG drawings under ``/usr/share/openclipart/png/<category>/...``. They
carry the mess of real files: transparency, widths from 3 to 20,990 pixels, palette and
grayscale modes, a few files above Pillow's decompression-bomb limit. A file's name holds
its title words and often its author (``apple_bitten_dan_gerhard_01.png``).

:func:`load_clipart` draws a class-balanced table from it: the category (the top folder)
as the label, the path, and the title words of the file name.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

ROOT = Path("/usr/share/openclipart/png")
# Categories with at least this many files (14 of the package's 20).
MIN_FILES = 95
# Pillow's default decompression-bomb limit: files above it are left out of the table, as a
# user would after ImageLoader names them (the loader refuses them by default).
MAX_PIXELS = 89_478_485
_SPLIT = re.compile(r"[_\-\s.]+")


def title_words(path: str | Path) -> str:
    """The words of a file name, numbers dropped: ``apple_bitten_dan_01.png`` -> ``apple
    bitten dan``."""
    words = _SPLIT.split(Path(path).stem.lower())
    return " ".join(word for word in words if word and not word.isdigit())


def _small_enough(path: Path) -> bool:
    try:
        with Image.open(path) as image:  # reads the header only
            return image.width * image.height <= MAX_PIXELS
    except Image.DecompressionBombError:  # above twice the limit: Pillow refuses to open it
        return False


def load_clipart(per_class: int = 100, root: Path = ROOT, random_state: int = 0):
    """``X`` (columns ``image``: path, ``title``: title words, ``first_word``: the title's
    first word) and ``y`` (the category), ``per_class`` random files of each category with
    at least ``MIN_FILES`` files (all of a smaller one)."""
    if not root.is_dir():
        raise FileNotFoundError(
            f"{root} not found: the clip-art cases need Debian's openclipart-png package "
            "(apt-get install openclipart-png)."
        )
    rng = np.random.default_rng(random_state)
    paths, labels = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(folder.rglob("*.png"))
        if len(files) < MIN_FILES:
            continue
        chosen = [files[i] for i in rng.permutation(len(files))]
        chosen = [f for f in chosen if _small_enough(f)][:per_class]
        paths += [str(f) for f in chosen]
        labels += [folder.name] * len(chosen)
    titles = [title_words(p) for p in paths]
    X = pd.DataFrame(
        {
            "image": paths,
            "title": titles,
            "first_word": [t.split(" ")[0] if t else "" for t in titles],
        }
    )
    return X, np.array(labels, dtype=object)


def composited_pixels(paths, size: int = 24) -> np.ndarray:
    """Flat RGB pixels in [0, 1], transparency composited on white: the classical baseline's
    features (logistic regression on them reaches 0.566 on all 7,881 files of the 14
    categories, where the largest class is 27%)."""
    rows = []
    for path in paths:
        with Image.open(path) as image:
            image.draft("RGB", (size * 4, size * 4))
            rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        white.alpha_composite(rgba)
        small = white.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
        rows.append(np.asarray(small, dtype=np.float32).ravel() / 255.0)
    return np.stack(rows)
