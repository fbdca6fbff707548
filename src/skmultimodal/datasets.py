"""Built-in multimodal data set: images on disk, review texts, time series, categories.

Only numpy, pandas and Pillow are used here, so the data set can be generated without
loading TensorFlow.
"""

from __future__ import annotations

import hashlib
import numbers
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

__all__ = ["make_multimodal_classification"]

# Few sentiment words, so each one occurs often enough for an embedding to learn it from a
# few hundred texts; two distinct ones are drawn per text. The filler words never overlap
# with them, so a bag-of-words model sees the text signal as
# (number of positive words) - (number of negative words).
POSITIVE_WORDS = (
    "great",
    "excellent",
    "love",
    "perfect",
    "reliable",
)
NEGATIVE_WORDS = (
    "terrible",
    "broken",
    "poor",
    "disappointing",
    "useless",
)
FILLER_WORDS = (
    "the",
    "product",
    "arrived",
    "in",
    "a",
    "box",
    "it",
    "was",
    "and",
    "this",
    "with",
    "color",
    "size",
    "after",
    "one",
    "week",
    "of",
    "use",
    "delivery",
    "package",
    "item",
    "my",
    "for",
    "kitchen",
)

# Half the red-blue contrast of the square: red = 0.5 + s * _COLOR_CONTRAST, blue = 0.5 - ...
_COLOR_CONTRAST = 0.35
# Probability that the category's signal agrees with the noise-free label.
_CATEGORY_AGREEMENT = 0.65
_MIN_IMAGE_SIDE = 4
_MIN_FILLER, _MAX_FILLER = 4, 10


def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}: {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)


def _check_float(value, name: str, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}: {value!r}.")
    value = float(value)
    if not np.isfinite(value) or value < low or (high is not None and value > high):
        expected = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {expected}, got {value}.")
    return value


def _check_image_size(image_size) -> tuple[int, int]:
    if isinstance(image_size, (str, bytes)) or not hasattr(image_size, "__len__"):
        raise ValueError(f"image_size must be a (height, width) pair of ints, got {image_size!r}.")
    if len(image_size) != 2:
        raise ValueError(
            f"image_size must be a (height, width) pair of ints, got {len(image_size)} "
            f"values: {tuple(image_size)!r}."
        )
    height, width = image_size
    return (
        _check_int(height, "image_size[0] (height)", _MIN_IMAGE_SIDE),
        _check_int(width, "image_size[1] (width)", _MIN_IMAGE_SIDE),
    )


def _check_random_state(random_state) -> np.random.Generator:
    """Turn ``random_state`` (None, int, RandomState or Generator) into a Generator."""
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        # Drawing the seed from the given RandomState advances it, as scikit-learn's
        # dataset generators do when they share one RandomState across calls.
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    seed = _check_int(random_state, "random_state", 0)
    return np.random.default_rng(seed)


#: The folder shared by every call without ``image_dir``: files named by their pixels.
SHARED_IMAGE_DIR_NAME = "skmultimodal_images"


def _prepare_image_dir(image_dir) -> Path:
    if image_dir is None:
        path = Path(tempfile.gettempdir(), SHARED_IMAGE_DIR_NAME).resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path
    if not isinstance(image_dir, (str, os.PathLike)):
        raise TypeError(
            f"image_dir must be None, a str or an os.PathLike, got {type(image_dir).__name__}."
        )
    path = Path(image_dir).resolve()
    if path.exists() and not path.is_dir():
        raise ValueError(f"image_dir {str(path)!r} exists and is not a directory.")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _draw_category(
    rng: np.random.Generator, y_clean: np.ndarray, n_categories: int
) -> tuple[np.ndarray, np.ndarray]:
    """Category index and its signal: agrees with the label with probability 0.65.

    Even-numbered categories carry the signal 1, odd-numbered ones -1; the category is drawn
    uniformly among those carrying the chosen signal.
    """
    n_samples = y_clean.shape[0]
    agrees = rng.random(n_samples) < _CATEGORY_AGREEMENT
    signal = np.where(agrees, 1, -1) * (2 * y_clean - 1)
    n_positive = (n_categories + 1) // 2
    n_negative = n_categories // 2
    positive_index = 2 * rng.integers(0, n_positive, size=n_samples)
    negative_index = 2 * rng.integers(0, n_negative, size=n_samples) + 1
    return np.where(signal > 0, positive_index, negative_index), signal


def _make_images(
    rng: np.random.Generator, signal: np.ndarray, image_size: tuple[int, int], noise: float
) -> np.ndarray:
    """uint8 RGB images ``(n, h, w, 3)``: a colored square on a gray background.

    The square's red minus blue intensity is ``2 * _COLOR_CONTRAST * signal``; its position,
    its green channel and the background gray level are nuisances.
    """
    n_samples = signal.shape[0]
    height, width = image_size
    side = min(height, width) // 2

    background = rng.uniform(0.1, 0.9, size=(n_samples, 1, 1, 1))
    images = np.broadcast_to(background, (n_samples, height, width, 3)).copy()

    top = rng.integers(0, height - side + 1, size=n_samples)
    left = rng.integers(0, width - side + 1, size=n_samples)
    green = rng.uniform(0.2, 0.8, size=n_samples)
    color = np.stack(
        [0.5 + _COLOR_CONTRAST * signal, green, 0.5 - _COLOR_CONTRAST * signal], axis=1
    )
    rows = np.arange(height)
    cols = np.arange(width)
    inside = ((rows[None, :] >= top[:, None]) & (rows[None, :] < top[:, None] + side))[
        :, :, None
    ] & ((cols[None, :] >= left[:, None]) & (cols[None, :] < left[:, None] + side))[:, None, :]
    images = np.where(inside[..., None], color[:, None, None, :], images)

    images += rng.normal(0.0, noise, size=images.shape)
    return np.clip(np.rint(images * 255.0), 0, 255).astype(np.uint8)


def _make_texts(rng: np.random.Generator, signal: np.ndarray) -> list[str]:
    """Review-like texts: filler words plus two distinct positive (1) or negative (-1) words."""
    texts = []
    for value in signal:
        sentiment = rng.choice(POSITIVE_WORDS if value > 0 else NEGATIVE_WORDS, 2, replace=False)
        n_filler = int(rng.integers(_MIN_FILLER, _MAX_FILLER + 1))
        words = [str(word) for word in rng.choice(FILLER_WORDS, size=n_filler)]
        for word in sentiment:
            words.insert(int(rng.integers(0, len(words) + 1)), str(word))
        texts.append(" ".join(words))
    return texts


def _make_series(
    rng: np.random.Generator,
    signal: np.ndarray,
    n_timesteps: int,
    n_series_features: int,
    noise: float,
) -> np.ndarray:
    """float64 ``(n, n_timesteps, n_series_features)``: level + trend + noise.

    Feature 0 rises by ``signal`` over the window; the other features get their own random
    trends in {-1, 0, 1}, unrelated to the label, as distractors.
    """
    n_samples = signal.shape[0]
    trend = rng.integers(-1, 2, size=(n_samples, n_series_features)).astype(float)
    trend[:, 0] = signal
    level = rng.normal(0.0, 1.0, size=(n_samples, 1, n_series_features))
    ramp = np.linspace(0.0, 1.0, n_timesteps)[None, :, None]
    series = level + trend[:, None, :] * ramp
    return series + rng.normal(0.0, noise, size=series.shape)


def _series_column_names(n_timesteps: int, n_series_features: int) -> list[str]:
    # Time step is the outer loop, so TimeStepReshaper(timesteps=n_timesteps) turns the
    # columns back into (n, n_timesteps, n_series_features) with a plain row-major reshape.
    if n_series_features == 1:
        return [f"t{t}" for t in range(n_timesteps)]
    return [f"t{t}_f{f}" for t in range(n_timesteps) for f in range(n_series_features)]


def _write_images(images: np.ndarray, image_dir: Path, by_content: bool = False) -> list[str]:
    """Write one PNG per image: ``image_<i>.png``, or with ``by_content`` a name from a
    hash of the pixels, written once (atomically: parallel calls share the folder)."""
    width = len(str(len(images) - 1))
    paths = []
    for i, pixels in enumerate(images):
        if not by_content:
            path = image_dir / f"image_{i:0{width}d}.png"
            Image.fromarray(pixels).save(path, format="PNG")
            paths.append(str(path))
            continue
        digest = hashlib.sha256(pixels.tobytes() + repr(pixels.shape).encode()).hexdigest()
        path = image_dir / f"image_{digest[:24]}.png"
        if not path.exists():
            handle, temporary = tempfile.mkstemp(dir=image_dir, suffix=".png.tmp")
            try:
                with os.fdopen(handle, "wb") as file:
                    Image.fromarray(pixels).save(file, format="PNG")
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        paths.append(str(path))
    return paths


def make_multimodal_classification(
    n_samples: int = 300,
    *,
    image_dir: str | os.PathLike | None = None,
    image_size: tuple[int, int] = (16, 16),
    n_timesteps: int = 8,
    n_series_features: int = 1,
    n_categories: int = 4,
    noise: float = 0.1,
    flip_y: float = 0.0,
    return_signals: bool = False,
    random_state: int | np.random.RandomState | np.random.Generator | None = None,
) -> tuple[pd.DataFrame, np.ndarray] | tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """Generate a binary classification problem whose label needs several modalities.

    Each sample has an image (a small PNG written to ``image_dir``), a review-like text, a
    numeric time series and a category. The image, the text and the series each carry an
    independent binary signal and the label is their majority vote; the category is a weaker
    hint at the label (see Notes). A model that sees one modality can be right at most 75%
    of the time, one that fuses image, text and series can be right always.

    Parameters
    ----------
    n_samples : int, default=300
        Number of samples (rows and PNG files).
    image_dir : str, os.PathLike or None, default=None
        Folder the PNG files are written to; created if missing, and existing files named
        ``image_<i>.png`` are overwritten. ``None`` writes to one folder shared by every
        call, ``skmultimodal_images`` in :func:`tempfile.gettempdir`, with file names from
        a hash of the pixels: the same data written twice is one set of files, and no call
        leaves a folder of its own behind.
    image_size : tuple of int, default=(16, 16)
        ``(height, width)`` of the RGB images, as ``ImageLoader``'s ``target_size``; each
        side must be at least 4.
    n_timesteps : int, default=8
        Number of time steps of the series; at least 2.
    n_series_features : int, default=1
        Number of values per time step. Feature 0 carries the signal; the others are
        distractors with random trends.
    n_categories : int, default=4
        Number of distinct categories, at least 2.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise added to the pixel intensities (on a 0-1
        scale) and to the series values (whose signal trend has height 1).
    flip_y : float, default=0.0
        Fraction of samples, chosen at random, whose label is flipped after it is computed
        from the signals. Bounds the best accuracy at ``1 - flip_y``.
    return_signals : bool, default=False
        If True, also return the latent signals of each modality.
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, \
default=None
        Seed or generator for every random draw. A fixed int gives identical data,
        texts and image pixels on every call.

    Returns
    -------
    X : pandas.DataFrame of shape (n_samples, 3 + n_timesteps * n_series_features)
        Columns, in order:

        - ``"image"``: absolute path (str) of the sample's PNG file.
        - ``"text"``: lowercase words separated by single spaces, no punctuation.
        - ``"t0"`` ... ``"t{n_timesteps-1}"`` (float64) when ``n_series_features == 1``,
          else ``"t{t}_f{f}"`` with the time step as the outer loop, so that
          ``TimeStepReshaper(timesteps=n_timesteps)`` restores
          ``(n_samples, n_timesteps, n_series_features)``.
        - ``"category"``: one of ``"c0"`` ... ``"c{n_categories-1}"``.
    y : ndarray of shape (n_samples,), dtype int64
        Labels in {0, 1}.
    signals : pandas.DataFrame of shape (n_samples, 4)
        Only when ``return_signals=True``: int64 columns ``"image"``, ``"text"``,
        ``"series"`` and ``"category"``, each with values in {-1, 1}.

    Notes
    -----
    For each sample three signals ``s_image``, ``s_text`` and ``s_series`` are drawn
    independently and uniformly from {-1, 1}, and the noise-free label is their majority::

        y = 1  if  s_image + s_text + s_series > 0  else 0

    The category signal ``s_category`` is ``2 * y - 1`` with probability 0.65 and its
    opposite otherwise; the category is then drawn uniformly among ``c0``, ``c2``, ... when
    ``s_category = 1`` and among ``c1``, ``c3``, ... when ``s_category = -1``. Finally a
    fraction ``flip_y`` of labels is flipped. The signals show up in the data as:

    - image: a square of side ``min(height, width) // 2`` at a random position on a random
      uniform gray background, colored ``(0.5 + 0.35 s, g, 0.5 - 0.35 s)`` in RGB with a
      random green ``g`` (reddish for 1, bluish for -1), plus pixel noise;
    - text: 4 to 10 random filler words with two distinct positive words (for 1) or two
      distinct negative words (for -1) inserted at random positions;
    - series: feature 0 is ``level + s * t / (n_timesteps - 1) + noise`` for ``t = 0 ...
      n_timesteps - 1`` with ``level ~ N(0, 1)``;
    - category: the category name.

    The vote is linear in the signals and each signal is linear in the raw features (red
    minus blue pixel sum, positive minus negative word counts, series slope), so even a
    linear model on all features can reach 100%. Best possible accuracies without label
    noise: image, text or series alone 0.75, category alone 0.65, two of image, text and
    series 0.75 (0.825 with the category), all three 1.0. Classes are balanced in
    expectation.

    Examples
    --------
    >>> from pathlib import Path
    >>> from skmultimodal.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_samples=5, n_timesteps=3, random_state=0)
    >>> X.columns.tolist()
    ['image', 'text', 't0', 't1', 't2', 'category']
    >>> y
    array([1, 1, 1, 0, 1])
    >>> X.loc[0, "text"]
    'package one kitchen use disappointing poor after week'
    >>> Path(X.loc[0, "image"]).parent.name  # shared by every call without image_dir
    'skmultimodal_images'
    """
    n_samples = _check_int(n_samples, "n_samples", 1)
    height, width = _check_image_size(image_size)
    n_timesteps = _check_int(n_timesteps, "n_timesteps", 2)
    n_series_features = _check_int(n_series_features, "n_series_features", 1)
    n_categories = _check_int(n_categories, "n_categories", 2)
    noise = _check_float(noise, "noise", 0.0)
    flip_y = _check_float(flip_y, "flip_y", 0.0, 1.0)
    rng = _check_random_state(random_state)
    # Validate everything before touching the file system.
    directory = _prepare_image_dir(image_dir)

    s_image, s_text, s_series = 2 * rng.integers(0, 2, size=(3, n_samples)) - 1
    y = (s_image + s_text + s_series > 0).astype(np.int64)
    category_index, s_category = _draw_category(rng, y, n_categories)

    images = _make_images(rng, s_image, (height, width), noise)
    texts = _make_texts(rng, s_text)
    series = _make_series(rng, s_series, n_timesteps, n_series_features, noise)

    flipped = rng.random(n_samples) < flip_y
    y[flipped] = 1 - y[flipped]

    paths = _write_images(images, directory, by_content=image_dir is None)
    X = pd.DataFrame({"image": paths, "text": texts})
    series_frame = pd.DataFrame(
        series.reshape(n_samples, n_timesteps * n_series_features),
        columns=_series_column_names(n_timesteps, n_series_features),
    )
    X = pd.concat([X, series_frame], axis=1)
    X["category"] = [f"c{k}" for k in category_index]

    if not return_signals:
        return X, y
    signals = pd.DataFrame(
        {
            "image": s_image.astype(np.int64),
            "text": s_text.astype(np.int64),
            "series": s_series.astype(np.int64),
            "category": s_category.astype(np.int64),
        }
    )
    return X, y, signals
