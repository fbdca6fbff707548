"""Load images from a column of file paths into one uint8 array.

:class:`ImageLoader` is the image step of a multimodal pipeline: a table column of
paths becomes a ``(n, height, width, channels)`` uint8 array that a Keras model
rescales inside the graph. Pillow and numpy only; no Keras or TensorFlow import.
"""

from __future__ import annotations

import copy
import math
import multiprocessing
import os
import stat
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import joblib
import numpy as np
from joblib import effective_n_jobs
from PIL import Image, ImageOps
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._columns import one_column
from ._image_cache import DECODES, DecodeCache, spec_key
from .lazy import ImageLoadWarning, LazyImages
from .missing import MaskedInput, missing_rows

__all__ = [
    "DEFAULT_CACHE_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "ImageLoadWarning",
    "ImageLoader",
    "load_image",
]

#: Default decompression-bomb guard: Pillow's own default ``Image.MAX_IMAGE_PIXELS``
#: (about 89.5 million pixels, a 0.25 GiB RGB image). Fixed here rather than read from
#: Pillow's global, so that the limit of a fitted loader does not change behind its back.
DEFAULT_MAX_PIXELS = 89_478_485

#: Default bound of an ``ImageLoader(cache_dir=...)`` folder: 2 GiB, about 14,000 images
#: of 224x224 RGB or 170,000 of 64x64.
DEFAULT_CACHE_MAX_BYTES = 2 * 2**30

_PIL_MODES = {"rgb": "RGB", "grayscale": "L", "rgba": "RGBA"}
_CHANNELS = {"rgb": 3, "grayscale": 1, "rgba": 4}
_RESAMPLING = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
}
_EXIF_ORIENTATION = 0x0112
# Orientations 5-8 swap width and height once the EXIF transposition is applied.
_ORIENTATIONS_SWAPPING_AXES = (5, 6, 7, 8)


@dataclass(frozen=True)
class _DecodeSpec:
    """Everything needed to turn one file into one output image."""

    width: int
    height: int
    pil_mode: str
    resample: Image.Resampling
    keep_aspect_ratio: bool
    max_pixels: int | None
    formats: tuple[str, ...] | None = None


def _validate_target_size(target_size: Any) -> tuple[int, int]:
    if (
        isinstance(target_size, str)
        or not isinstance(target_size, Sequence)
        or len(target_size) != 2
        or not all(isinstance(v, Integral) and not isinstance(v, bool) for v in target_size)
        or not all(v > 0 for v in target_size)
    ):
        raise ValueError(
            f"target_size must be a (height, width) pair of positive integers, got {target_size!r}."
        )
    return int(target_size[0]), int(target_size[1])


def _center_crop_box(size: tuple[int, int], target_wh: tuple[int, int]) -> tuple[int, ...]:
    """Largest centred box of ``size`` with the aspect ratio of ``target_wh``."""
    width, height = size
    target_w, target_h = target_wh
    crop_w = min(width, height * target_w // target_h)
    crop_h = min(height, width * target_h // target_w)
    left = (width - crop_w) // 2
    top = (height - crop_h) // 2
    return (left, top, left + crop_w, top + crop_h)


def _draft_request(size: tuple[int, int], spec: _DecodeSpec, swap_axes: bool) -> tuple[int, int]:
    """Smallest stored (un-rotated) size that JPEG draft mode may decode to.

    Draft mode downscales by 1/2, 1/4 or 1/8 in the DCT domain while keeping the
    decoded size at least the requested one, so the final resize always
    downsamples and never upsamples.
    """
    target_wh = (spec.height, spec.width) if swap_axes else (spec.width, spec.height)
    if not spec.keep_aspect_ratio:
        return target_wh
    left, top, right, bottom = _center_crop_box(size, target_wh)
    # The crop, not the whole image, must stay at least target_wh after draft scaling.
    return (
        math.ceil(target_wh[0] * size[0] / max(right - left, 1)),
        math.ceil(target_wh[1] * size[1] / max(bottom - top, 1)),
    )


def _to_mode(img: Image.Image, pil_mode: str) -> Image.Image:
    """Convert ``img`` to ``pil_mode`` ("RGB", "L" or "RGBA"), scaling deep images to 8 bits."""
    mode = img.mode
    if mode == pil_mode:
        return img
    if mode.startswith("I;16"):
        # 16-bit samples: keep the 8 most significant bits (Pillow itself would clip
        # everything above 255 to white).
        img = Image.fromarray((np.asarray(img).astype(np.uint16) >> 8).astype(np.uint8), "L")
    elif mode == "I":
        # 32-bit integer images are nearly always 16-bit data (16-bit PNG/TIFF): same scale.
        values = np.clip(np.asarray(img), 0, 65535).astype(np.uint32) >> 8
        img = Image.fromarray(values.astype(np.uint8), "L")
    elif mode == "F":
        # Float images follow Pillow's convention of the 0-255 scale; round, don't truncate.
        values = np.nan_to_num(np.asarray(img), nan=0.0, posinf=255.0, neginf=0.0)
        img = Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8), "L")
    elif mode in ("P", "PA"):
        # Going through RGBA keeps the palette's transparency (Pillow warns otherwise).
        has_alpha = mode == "PA" or "transparency" in img.info
        img = img.convert("RGBA" if has_alpha else "RGB")
    elif mode == "La":
        img = img.convert("LA")
    return img if img.mode == pil_mode else img.convert(pil_mode)


def _validate_formats(formats: Any) -> tuple[str, ...] | None:
    if formats is None:
        return None
    Image.init()
    names = [formats] if isinstance(formats, str) else list(formats)
    unknown = [name for name in names if str(name).upper() not in Image.OPEN]
    if unknown or not names:
        raise ValueError(
            f"formats must be None or a non-empty list of Pillow format names, got "
            f"{formats!r}; unknown: {unknown}. Known: {sorted(Image.OPEN)}."
        )
    return tuple(str(name).upper() for name in names)


def _bomb_error(path: str, exc: Exception) -> ValueError:
    return ValueError(
        f"image {path!r} is larger than Pillow's global Image.MAX_IMAGE_PIXELS guard "
        f"allows ({exc}); raise PIL.Image.MAX_IMAGE_PIXELS as well as max_pixels "
        "if the file is trusted"
    )


def _corrupt_error(path: str, action: str, exc: Exception) -> ValueError:
    """Our error for any exception Pillow raised while reading one file."""
    return ValueError(
        f"could not {action} {path!r} ({type(exc).__name__}: {exc}); the file is corrupt, "
        "truncated or in a form Pillow cannot read. Re-save or remove it, or pass "
        "on_error='zeros' to load a blank image instead"
    )


def require_regular_file(path: str | os.PathLike) -> None:
    """Refuse anything but a regular file (after symlinks) before it is opened.

    Reading a FIFO blocks until a writer comes, and a device file (``/dev/zero``) never
    ends: either would hang a fit or a predict. ``FileNotFoundError`` for a missing path,
    ``ValueError`` naming the path and what it is otherwise.

    Examples
    --------
    >>> require_regular_file("/dev/null")
    Traceback (most recent call last):
    ...
    ValueError: '/dev/null' is a character device, not a regular file; ...
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"image file not found: {os.fspath(path)!r}") from None
    if stat.S_ISREG(mode):
        return
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    kind = next((name for test, name in kinds if test(mode)), "not a regular file")
    raise ValueError(
        f"{os.fspath(path)!r} is {kind}, not a regular file; only regular files are read "
        "(reading a pipe or a device could block forever)."
    )


def _open_checked(
    path: str, max_pixels: int | None, formats: tuple[str, ...] | None = None
) -> Image.Image:
    """Open ``path`` lazily (header only) and refuse decompression bombs.

    Every exception raised by Pillow becomes a ``ValueError`` naming the path (the
    original chained), or a ``FileNotFoundError`` for a missing file. ``MemoryError``
    is let through: the process, not the file, is short of memory.
    """
    require_regular_file(path)
    try:
        img = Image.open(path, formats=formats)
    except FileNotFoundError:
        raise FileNotFoundError(f"image file not found: {path!r}") from None
    except Image.DecompressionBombError as exc:
        raise _bomb_error(path, exc) from exc
    except Image.UnidentifiedImageError as exc:
        allowed = "" if formats is None else f" in the allowed formats {list(formats)}"
        raise ValueError(f"{path!r} is not an image file Pillow can identify{allowed}") from exc
    except OSError as exc:
        raise ValueError(f"could not read image file {path!r}: {exc}") from exc
    except MemoryError:
        raise
    except Exception as exc:
        # Format plugins raise NotImplementedError, RuntimeError, AttributeError,
        # struct.error, IndexError... for broken headers.
        raise _corrupt_error(path, "open image file", exc) from exc
    try:
        width, height = img.size
    except MemoryError:
        img.close()
        raise
    except Exception as exc:
        img.close()
        raise _corrupt_error(path, "open image file", exc) from exc
    if max_pixels is not None and width * height > max_pixels:
        img.close()
        raise ValueError(
            f"image {path!r} declares {width}x{height} = {width * height} pixels, more than "
            f"max_pixels={max_pixels}; refused as a possible decompression bomb. Pass a "
            "larger max_pixels (or None) if the file is trusted"
        )
    return img


def _probe_size(
    path: str | os.PathLike,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    formats: Sequence[str] | None = None,
) -> tuple[int, int]:
    """``(height, width)`` of the upright image in ``path``, from its header only.

    The size :func:`load_image` would see before resizing: EXIF orientations that
    swap the axes are applied (except an EXIF block stored after a PNG's pixel data,
    which only decoding would reach). No pixel is decoded.

    Parameters
    ----------
    path : str or os.PathLike
        Image file.
    max_pixels, formats
        As in :func:`load_image`.

    Returns
    -------
    size : tuple of (int, int)
        ``(height, width)``, in Keras' order (Pillow's ``Image.size`` is
        ``(width, height)``).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        Anything else that stops the header from being read (corrupt, not an image,
        decompression bomb), naming the path, with Pillow's exception chained.
    """
    path = os.fspath(path)
    img = _open_checked(path, max_pixels, _validate_formats(formats))
    try:
        width, height = img.size
        if img.format == "PNG" and "exif" not in img.info:
            # Pillow would decode the whole image to look for an eXIf chunk after it.
            orientation = 1
        else:
            orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
    except MemoryError:
        raise
    except Exception as exc:
        raise _corrupt_error(path, "read the header of image", exc) from exc
    finally:
        img.close()
    return (width, height) if orientation in _ORIENTATIONS_SWAPPING_AXES else (height, width)


def _decode_opened(img: Image.Image, spec: _DecodeSpec) -> Image.Image:
    """Decode an opened image into a new Pillow image of the target size and mode."""
    if img.format == "JPEG":
        orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
        swap = orientation in _ORIENTATIONS_SWAPPING_AXES
        # Decoding only the luma plane is enough for grayscale output.
        img.draft("L" if spec.pil_mode == "L" else None, _draft_request(img.size, spec, swap))
    img.load()
    ImageOps.exif_transpose(img, in_place=True)
    converted = _to_mode(img, spec.pil_mode)
    target_wh = (spec.width, spec.height)
    box = _center_crop_box(converted.size, target_wh) if spec.keep_aspect_ratio else None
    if converted.size == target_wh and box in (None, (0, 0, *target_wh)):
        return converted.copy() if converted is img else converted
    return converted.resize(target_wh, spec.resample, box=box)


def _decode(path: str, spec: _DecodeSpec) -> Image.Image:
    """Decode ``path`` into a Pillow image of the target size and mode.

    Raises ``FileNotFoundError`` or ``ValueError`` naming the path for anything that
    goes wrong with the file (the original exception chained); ``MemoryError`` is let
    through.
    """
    img = _open_checked(path, spec.max_pixels, spec.formats)
    try:
        return _decode_opened(img, spec)
    except MemoryError:
        raise
    except Image.DecompressionBombError as exc:
        raise _bomb_error(path, exc) from exc
    except Exception as exc:
        # OSError, ValueError, SyntaxError, EOFError, zlib.error, struct.error, and
        # whatever else a format plugin raises for a corrupt or truncated file.
        raise _corrupt_error(path, "decode image", exc) from exc
    finally:
        img.close()


def _default_n_threads() -> int:
    """Decoding threads for ``n_jobs=None`` (the rule documented in :class:`ImageLoader`).

    1. Inside a :func:`joblib.parallel_config` (or ``parallel_backend``) context that
       sets ``n_jobs``: that number, with joblib's :func:`~joblib.effective_n_jobs`
       semantics (-1 = all cores).
    2. Inside a joblib worker (a thread of a joblib ``Parallel`` call: the active
       backend's nesting level is 1 or more) or a worker process (loky, ``multiprocessing``,
       Dask's nanny: :func:`multiprocessing.parent_process` is set): 1, because the
       enclosing search already runs one task per core.
    3. Otherwise :func:`joblib.cpu_count`: the cores this process may use (CPU affinity
       and cgroup quotas respected, ``LOKY_MAX_CPU_COUNT`` obeyed).
    """
    try:
        from joblib.parallel import get_active_backend

        backend, config_n_jobs = get_active_backend()
    except Exception:  # pragma: no cover - a joblib without this function
        backend, config_n_jobs = None, None
    if config_n_jobs is not None:
        return max(1, effective_n_jobs(config_n_jobs))
    if getattr(backend, "nesting_level", 0) or multiprocessing.parent_process() is not None:
        return 1
    return max(1, joblib.cpu_count())


def _n_threads(n_jobs: int | None) -> int:
    """Number of decoding threads for the ``n_jobs`` parameter."""
    return _default_n_threads() if n_jobs is None else max(1, effective_n_jobs(n_jobs))


def _resolve(value: Any, base_dir: str | None, root: str | None) -> str:
    """The file to open for one table cell; ``root`` set means confine to it."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        raise ValueError(
            f"the image path is missing ({value!r}); expected a file path "
            "(on_error='zeros' loads a blank image instead)"
        )
    if not isinstance(value, (str, os.PathLike)) or isinstance(os.fspath(value), bytes):
        raise TypeError(
            f"expected an image path (str or os.PathLike), got {type(value).__name__} {value!r}"
        )
    path = os.fspath(value)
    if base_dir is not None:
        path = os.path.join(base_dir, path)
    if root is None:
        return path
    real = os.path.realpath(path)
    try:
        inside = os.path.commonpath([real, root]) == root
    except ValueError:  # different drives on Windows
        inside = False
    if not inside:
        raise ValueError(
            f"image path {value!r} resolves to {real!r}, outside base_dir {root!r}; "
            "refused because restrict_to_base_dir=True"
        )
    # Open the resolved path, so the file checked is the file read.
    return real


class _Progress:
    """Thread-safe count of loaded images, shown as a progress bar on stderr.

    Uses tqdm when it is installed (a widget in notebooks); otherwise rewrites one
    stderr line, at most every 0.1 s so that the terminal does not slow the loading.
    """

    _MIN_INTERVAL = 0.1

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self._lock = threading.Lock()
        self._last_write = -math.inf
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self._bar = None
            self._write(force=True)
        else:
            self._bar = tqdm(total=total, desc="ImageLoader", unit="img")

    def update(self, n: int) -> None:
        with self._lock:
            self.done += n
            if self._bar is not None:
                self._bar.update(n)
            else:
                self._write(force=False)

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.close()
            else:
                self._write(force=True)
                sys.stderr.write("\n")
                sys.stderr.flush()

    def _write(self, force: bool) -> None:
        now = time.monotonic()
        if force or now - self._last_write >= self._MIN_INTERVAL:
            self._last_write = now
            sys.stderr.write(f"\rImageLoader: {self.done}/{self.total} images")
            sys.stderr.flush()


def _with_row(exc: Exception, row: int, labels: list | None) -> Exception:
    """Same exception type, with the row position (and index label) in front."""
    where = f"row {row}" if labels is None else f"row {row} (index {labels[row]!r})"
    located = type(exc)(f"ImageLoader: {where}: {exc}")
    located.__cause__ = exc.__cause__
    return located


def load_image(
    path: str | os.PathLike,
    target_size: tuple[int, int] = (224, 224),
    color_mode: str = "rgb",
    *,
    interpolation: str = "bilinear",
    keep_aspect_ratio: bool = False,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    formats: Sequence[str] | None = None,
) -> np.ndarray:
    """Load one image file as a uint8 array of shape ``(height, width, channels)``.

    The single-image counterpart of :class:`ImageLoader` (same decoding rules).

    Parameters
    ----------
    path : str or os.PathLike
        Image file.
    target_size : tuple of (int, int), default=(224, 224)
        Output ``(height, width)``.
    color_mode : {"rgb", "grayscale", "rgba"}, default="rgb"
        3, 1 or 4 output channels.
    interpolation : {"nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"}, \
            default="bilinear"
        Pillow resampling filter.
    keep_aspect_ratio : bool, default=False
        Centre-crop to the target aspect ratio before resizing.
    max_pixels : int or None, default=DEFAULT_MAX_PIXELS
        Refuse files whose header declares more pixels than this.
    formats : list of str, default=None
        Pillow format names to accept (None: every format Pillow can open).

    Returns
    -------
    image : ndarray of shape (height, width, channels), dtype uint8

    Examples
    --------
    >>> import tempfile, os
    >>> from PIL import Image
    >>> from skmultimodal.image import load_image
    >>> path = os.path.join(tempfile.mkdtemp(), "red.png")
    >>> Image.new("RGB", (8, 4), (255, 0, 0)).save(path)
    >>> image = load_image(path, target_size=(2, 2))
    >>> image.shape, image.dtype, image[0, 0].tolist()
    ((2, 2, 3), dtype('uint8'), [255, 0, 0])
    """
    height, width = _validate_target_size(target_size)
    if color_mode not in _PIL_MODES:
        raise ValueError(f"color_mode must be one of {sorted(_PIL_MODES)}, got {color_mode!r}.")
    if interpolation not in _RESAMPLING:
        raise ValueError(
            f"interpolation must be one of {sorted(_RESAMPLING)}, got {interpolation!r}."
        )
    spec = _DecodeSpec(
        width,
        height,
        _PIL_MODES[color_mode],
        _RESAMPLING[interpolation],
        bool(keep_aspect_ratio),
        max_pixels,
        _validate_formats(formats),
    )
    image = _decode(os.fspath(path), spec)
    return np.asarray(image).reshape(height, width, _CHANNELS[color_mode])


class ImageLoader(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Load a column of image paths into a uint8 array ``(n, height, width, channels)``.

    Each file is decoded with Pillow, EXIF-rotated, converted to ``color_mode`` and
    resized to ``target_size``, straight into one preallocated uint8 array (a quarter
    of the memory of Keras' float32 ``img_to_array``; rescale inside the model, e.g.
    with ``keras.layers.Rescaling(1 / 255)``). JPEG files are decoded in draft mode: the
    decoder downscales by 1/2, 1/4 or 1/8 in the DCT domain as long as the result stays
    at least ``target_size``, which makes decoding large photos several times faster.
    Files are decoded in a thread pool (Pillow releases the GIL while decoding).

    ``fit`` learns nothing from the images; it validates the parameters and records
    the input's column count and name.

    Parameters
    ----------
    target_size : tuple of (int, int), default=(224, 224)
        Output ``(height, width)``, in Keras' order.
    color_mode : {"rgb", "grayscale", "rgba"}, default="rgb"
        Output channels: 3, 1 or 4. Conversion rules (Pillow's unless stated):
        grayscale is ITU-R 601-2 luma; alpha is dropped, not composited, when the
        output has none; palette images with transparency go through RGBA; an output
        alpha channel is 255 for images without one; 16-bit images (modes ``I;16*``)
        keep their 8 most significant bits (``value >> 8``); 32-bit integer images
        (mode ``I``) are read as 16-bit data (clipped to 0-65535, then ``>> 8``); float
        images (mode ``F``) are on Pillow's 0-255 scale, rounded and clipped; bilevel
        images (mode ``1``) become 0/255. Animated and multi-page files give their
        first frame.
    base_dir : str or os.PathLike, default=None
        Directory that relative paths are resolved against (the current working
        directory when None). Absolute paths are used as they are.
    n_jobs : int, default=None
        Number of decoding threads (Pillow releases the GIL while decoding, so threads
        scale). A positive int is that many threads, -1 all cores, -2 all but one
        (joblib's semantics). None, the default, is fast on its own and polite inside
        a parallel search: the ``n_jobs`` of an enclosing
        :func:`joblib.parallel_config` context if it sets one; else 1 inside a joblib
        worker (a parallel ``GridSearchCV`` or ``cross_validate`` already runs one fit
        per core) or any other worker process started by :mod:`multiprocessing`; else
        every core this process may use (:func:`joblib.cpu_count`: CPU affinity and
        cgroup limits respected). ``lazy=True`` and ``lazy="cache"`` decode their
        batches with the same rule, resolved when ``transform`` runs.
    interpolation : {"nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"}, \
            default="bilinear"
        Pillow resampling filter. Pillow's filters are antialiased when downscaling,
        so "bilinear" is smooth; Keras' ``load_img`` defaults to "nearest", which
        aliases on downscaled photos but is the fastest (about 30% less CPU per
        640x480 JPEG resized to 224x224, where decoding takes most of the time).
    keep_aspect_ratio : bool, default=False
        If True, centre-crop each image to the aspect ratio of ``target_size`` before
        resizing (as Keras' ``keep_aspect_ratio``); otherwise the image is stretched.
    max_pixels : int or None, default=DEFAULT_MAX_PIXELS
        Decompression-bomb guard: a file whose header declares more than
        ``max_pixels`` pixels (width * height) is refused before any pixel is decoded.
        The default is Pillow's default ``Image.MAX_IMAGE_PIXELS`` (89,478,485). Raise
        it, or pass None, for trusted large images; Pillow itself still refuses files
        above twice its global ``PIL.Image.MAX_IMAGE_PIXELS``, which must then be
        raised too.
    on_error : {"raise", "zeros"}, default="raise"
        What to do with a row that cannot be loaded (missing value, missing or
        unreadable file, not an image, truncated or corrupt data, whatever exception
        Pillow raises for the file, decompression bomb, path outside ``base_dir``
        under ``restrict_to_base_dir``, non-path value). "raise" raises for the first
        such row, naming its position and path, with Pillow's exception chained.
        "zeros" loads a blank (all-zero) image for it and emits one
        :class:`~skmultimodal.lazy.ImageLoadWarning` counting the failed rows, whose
        ``failed_paths`` lists them. A ``MemoryError`` is always raised.
    restrict_to_base_dir : bool, default=False
        If True (``base_dir`` is then required), refuse every path that resolves
        outside ``base_dir`` once symbolic links and ``..`` are resolved, absolute
        paths included. Use it for tables from untrusted sources. The check is done
        just before opening the resolved path; it does not protect against a
        concurrent change of the file system.
    formats : list of str, default=None
        Pillow format names to accept, e.g. ``["JPEG", "PNG"]``; other files fail as
        "not an image". None accepts every format Pillow can open. Restricting the
        formats is advisable for untrusted files: some formats hand the file to
        external programs (EPS is rendered by Ghostscript when installed).
    lazy : bool or "cache", default=False
        If True, ``transform`` checks the paths (missing values, ``base_dir``
        confinement, ``on_error``) but decodes nothing: it returns a
        :class:`~skmultimodal.lazy.LazyImages`, a read-only stand-in for the
        ``(n, height, width, channels)`` uint8 array that decodes only the rows asked
        for. :class:`~skmultimodal.MultiInputKerasClassifier` and
        :class:`~skmultimodal.MultiInputKerasRegressor` then decode one batch at a time
        during ``fit`` and ``predict``, so memory no longer grows with the number of
        images. Errors of individual files (missing, corrupt, too large) are raised
        (or, with ``on_error="zeros"``, replaced by blank images with a warning) when
        their batch is decoded. ``"cache"`` is lazy too, but decodes each image once:
        its pixels are written to an unnamed temporary file (``height * width *
        channels`` bytes per image, in :func:`tempfile.gettempdir`, i.e. ``TMPDIR``)
        and read back from there for later epochs, which is faster than decoding
        again while memory stays flat. The file is deleted when the ``LazyImages`` is
        garbage-collected or closed (:meth:`~skmultimodal.lazy.LazyImages.close`, or a
        ``with`` block); the estimators' ``fit`` and ``predict`` keep no reference to
        it. A full disk raises an ``OSError`` naming the folder and the space needed.
    on_missing : {"error", "mask"}, default="error"
        What a row whose path is missing (None, NaN, ``pd.NA``, an empty string) means.
        "error": it is a failure like any other, handled by ``on_error``. "mask": the row
        has no image, which is legal: it gets a blank image and ``transform`` returns a
        :class:`~skmultimodal.missing.MaskedInput` whose ``present`` flags the rows with
        an image; in a :class:`~skmultimodal.MultiInputTransformer` the mask becomes the
        dict entry ``"<step>__present"``, and the estimators then ignore the placeholder
        (see :mod:`skmultimodal.missing`). Files that fail to load still follow
        ``on_error``.
    cache_dir : str or os.PathLike, default=None
        Folder (``~`` expanded, created if missing) of a decode cache that outlives the
        loader and is shared between fits, loaders and processes: each decoded image is
        stored there (``height * width * channels`` bytes, one file) and later ``transform``
        calls, clones and worker processes with the same decoding options read it back
        instead of decoding the file again, e.g. across all candidates, folds and the refit
        of a ``GridSearchCV``. Entries are keyed by the resolved path, the file's size,
        modification time and inode, and every option that changes pixels (``target_size``,
        ``color_mode``, ``interpolation``, ``keep_aspect_ratio``, ``max_pixels``,
        ``formats``, Pillow's version), so a changed file is decoded again. Writes go to a
        temporary file renamed into place, so processes may share the folder. Files that
        fail to load are not cached. None (default) caches nothing. Unlike ``lazy="cache"``,
        a private scratch file of one ``transform`` output deleted with it, this folder
        persists until you delete it; the two combine (``lazy="cache"`` reads its scratch
        file first, and fills it from this folder).
    cache_max_bytes : int or None, default=DEFAULT_CACHE_MAX_BYTES
        Bound on the size of ``cache_dir``'s entries (2 GiB by default). After each
        ``transform`` (or decoded lazy batch) that stored new entries, the least
        recently used entries are deleted until the folder fits. The folder is scanned
        for that only when this process's running total passes the bound, or at most
        once a minute, so other processes sharing it can exceed the bound by what they
        store within a minute. None: no bound. Ignored when ``cache_dir`` is None.
    verbose : int, default=0
        If positive, ``transform`` shows a progress bar of the images loaded on
        stderr: tqdm's when tqdm is installed, otherwise one line rewritten in place
        (``ImageLoader: 120/1000 images``). Nothing is shown with ``lazy=True``, where
        ``transform`` loads no image.

    Attributes
    ----------
    output_shape_ : tuple of int
        Shape of one output image, ``(height, width, channels)``.
    n_features_in_ : int
        Number of columns seen in ``fit`` (always 1). Only set when ``X`` is 2-D.
    feature_names_in_ : ndarray of shape (1,)
        Column name seen in ``fit``. Only set when ``X`` is a DataFrame.

    See Also
    --------
    load_image : Load a single image with the same rules.

    Notes
    -----
    The output is 4-D, so there is no ``get_feature_names_out`` and ``set_output`` is
    not available. ``transform`` changes no state: with ``on_error="zeros"`` the rows
    replaced by blank images are reported by one :class:`~skmultimodal.lazy.ImageLoadWarning`
    whose ``failed_paths`` lists ``(row position, path as given)``; with ``lazy=True``
    the rows whose path itself is refused are reported by ``transform``, files that
    fail to decode when their batch is decoded.

    Draft-mode JPEG decoding averages 2x2 (4x4, 8x8) pixel areas before the resize, so
    the output differs slightly from a full-size decode followed by the same resize;
    it is no less accurate. Pillow emits its own ``DecompressionBombWarning`` when it
    opens a file above its global ``Image.MAX_IMAGE_PIXELS``, before ``max_pixels``
    refuses it.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from PIL import Image
    >>> from skmultimodal.image import ImageLoader
    >>> folder = tempfile.mkdtemp()
    >>> Image.new("RGB", (32, 16), (255, 0, 0)).save(f"{folder}/red.png")
    >>> Image.new("L", (8, 8), 128).save(f"{folder}/gray.png")
    >>> X = pd.DataFrame({"photo": ["red.png", "gray.png"]})
    >>> images = ImageLoader(target_size=(4, 4), base_dir=folder).fit_transform(X)
    >>> images.shape, images.dtype
    ((2, 4, 4, 3), dtype('uint8'))
    >>> images[0, 0, 0].tolist(), images[1, 0, 0].tolist()
    ([255, 0, 0], [128, 128, 128])
    """

    _parameter_constraints: dict = {
        "target_size": ["array-like"],
        "color_mode": [StrOptions(set(_PIL_MODES))],
        "base_dir": [str, os.PathLike, None],
        "n_jobs": [Integral, None],
        "interpolation": [StrOptions(set(_RESAMPLING))],
        "keep_aspect_ratio": ["boolean"],
        "max_pixels": [Interval(Integral, 1, None, closed="left"), None],
        "on_error": [StrOptions({"raise", "zeros"})],
        "restrict_to_base_dir": ["boolean"],
        "formats": [list, tuple, None],
        "lazy": ["boolean", StrOptions({"cache"})],
        "on_missing": [StrOptions({"error", "mask"})],
        "cache_dir": [str, os.PathLike, None],
        "cache_max_bytes": [Interval(Integral, 0, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        target_size: tuple[int, int] = (224, 224),
        color_mode: str = "rgb",
        base_dir: str | os.PathLike | None = None,
        n_jobs: int | None = None,
        *,
        interpolation: str = "bilinear",
        keep_aspect_ratio: bool = False,
        max_pixels: int | None = DEFAULT_MAX_PIXELS,
        on_error: str = "raise",
        restrict_to_base_dir: bool = False,
        formats: Sequence[str] | None = None,
        lazy: bool | str = False,
        on_missing: str = "error",
        cache_dir: str | os.PathLike | None = None,
        cache_max_bytes: int | None = DEFAULT_CACHE_MAX_BYTES,
        verbose: int = 0,
    ) -> None:
        self.target_size = target_size
        self.color_mode = color_mode
        self.base_dir = base_dir
        self.n_jobs = n_jobs
        self.interpolation = interpolation
        self.keep_aspect_ratio = keep_aspect_ratio
        self.max_pixels = max_pixels
        self.on_error = on_error
        self.restrict_to_base_dir = restrict_to_base_dir
        self.formats = formats
        self.lazy = lazy
        self.on_missing = on_missing
        self.cache_dir = cache_dir
        self.cache_max_bytes = cache_max_bytes
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> ImageLoader:
        """Validate the parameters and record the input column; reads no file.

        Parameters
        ----------
        X : DataFrame of one column, Series, list, or array of shape (n,) or (n, 1)
            Image paths (str or os.PathLike).
        y : None
            Ignored.

        Returns
        -------
        self : ImageLoader
        """
        height, width = _validate_target_size(self.target_size)
        if self.n_jobs == 0:
            raise ValueError("n_jobs=0 has no meaning; use None, a positive int, or -1.")
        if self.restrict_to_base_dir and self.base_dir is None:
            raise ValueError("restrict_to_base_dir=True requires base_dir to be set.")
        _validate_formats(self.formats)
        self._column_of_paths(X)
        validate_data(self, X, reset=True, skip_check_array=True)
        self.output_shape_ = (height, width, _CHANNELS[self.color_mode])
        return self

    def transform(self, X: Any) -> np.ndarray | LazyImages | MaskedInput:
        """Load the images.

        Parameters
        ----------
        X : DataFrame of one column, Series, list, or array of shape (n,) or (n, 1)
            Image paths (str or os.PathLike); relative ones are resolved against
            ``base_dir``.

        Returns
        -------
        images : ndarray of shape (n, height, width, channels), dtype uint8
            A :class:`~skmultimodal.lazy.LazyImages` of that shape when ``lazy=True``.
        """
        check_is_fitted(self)
        paths, labels, is_2d = self._column_of_paths(X)
        if is_2d:
            # A 1-D input is one column by construction; only 2-D input has a count to check.
            validate_data(self, X, reset=False, skip_check_array=True)
        present = None
        if self.on_missing == "mask":
            present = ~missing_rows(paths)
        if self.lazy:
            images, failures = self._lazy_images(paths, labels, present)
        else:
            images = np.zeros((len(paths), *self.output_shape_), dtype=np.uint8)
            failures = self._load_all(
                paths, labels, images, progress=bool(self.verbose), present=present
            )
        if failures:
            warnings.warn(
                ImageLoadWarning(
                    f"ImageLoader: {len(failures)} of {len(paths)} images could not be loaded "
                    "and were replaced by blank images (on_error='zeros'); the warning's "
                    f"failed_paths lists them. First failure: {failures[0][1]}",
                    [(row, paths[row]) for row, _ in failures],
                ),
                stacklevel=2,
            )
        return images if present is None else MaskedInput(images, present)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.transformer_tags.preserves_dtype = []
        return tags

    def _column_of_paths(self, X: Any) -> tuple[list, list | None, bool]:
        """The single column of ``X`` as a list, row labels worth reporting, and whether
        ``X`` was 2-D."""
        column = one_column(
            X,
            owner="ImageLoader",
            what="image paths",
            hint=" Select the path column, e.g. with MultiInputTransformer or ColumnTransformer.",
        )
        return column.values, column.labels, column.is_2d

    def _decode_cache(self, spec: _DecodeSpec) -> DecodeCache | None:
        """The on-disk cache for ``spec`` (None when ``cache_dir`` is None)."""
        cache_dir = getattr(self, "cache_dir", None)  # None for loaders pickled before it
        if cache_dir is None:
            return None
        fields = {
            "width": spec.width,
            "height": spec.height,
            "mode": spec.pil_mode,
            "resample": int(spec.resample),
            "keep_aspect_ratio": spec.keep_aspect_ratio,
            "max_pixels": spec.max_pixels,
            "formats": spec.formats,
        }
        return DecodeCache(cache_dir, spec_key(fields), self.output_shape_, self.cache_max_bytes)

    def _lazy_images(
        self, paths: list, labels: list | None, present: np.ndarray | None = None
    ) -> tuple[LazyImages, list]:
        """Resolve and check every path now; leave the decoding to :class:`LazyImages`.

        Rows that ``present`` flags as absent get no path: they decode as blank images.
        """
        base_dir = None if self.base_dir is None else os.fspath(self.base_dir)
        root = os.path.realpath(base_dir) if self.restrict_to_base_dir else None
        resolved, failures = [], []
        for row, value in enumerate(paths):
            if present is not None and not present[row]:
                resolved.append(None)
                continue
            try:
                # Absolute now: the batches decode later, maybe after a chdir.
                resolved.append(os.path.abspath(_resolve(value, base_dir, root)))
            except (ValueError, TypeError) as exc:
                if self.on_error == "raise":
                    raise _with_row(exc, row, labels) from exc.__cause__
                failures.append((row, _with_row(exc, row, labels)))
                resolved.append(None)
        # A copy, so that refitting this loader with other parameters later does not
        # change how already transformed images decode.
        images = LazyImages(resolved, copy.copy(self), labels)
        # Resolved here, in the caller's context: the batches are decoded later in a
        # tf.data thread, which knows nothing of an enclosing joblib worker.
        images._n_threads = _n_threads(self.n_jobs)
        return images, failures

    def _load_all(
        self,
        paths: list,
        labels: list | None,
        images: np.ndarray,
        row_positions: Sequence[int] | None = None,
        resolved: bool = False,
        progress: bool = False,
        n_threads: int | None = None,
        present: np.ndarray | None = None,
    ) -> list[tuple[int, Exception]]:
        """Decode every path into ``images``; return the ``(row, error)`` failures.

        Rows that ``present`` flags False (``on_missing="mask"``) are skipped: they keep
        the blank (zero) rows of ``images``.

        ``row_positions`` are the row positions to name in errors (default: the positions in
        ``paths``); ``resolved`` says that ``base_dir`` was already joined to the paths;
        ``progress`` shows a progress bar on stderr; ``n_threads`` overrides the number of
        threads that ``n_jobs`` gives (the lazy path resolves it at ``transform`` time).
        """
        height, width, _ = self.output_shape_
        spec = _DecodeSpec(
            width,
            height,
            _PIL_MODES[self.color_mode],
            _RESAMPLING[self.interpolation],
            bool(self.keep_aspect_ratio),
            self.max_pixels,
            _validate_formats(self.formats),
        )
        base_dir = None if self.base_dir is None else os.fspath(self.base_dir)
        root = os.path.realpath(base_dir) if self.restrict_to_base_dir else None
        if resolved:
            base_dir = None
        cache = self._decode_cache(spec)
        stop_at_first = self.on_error == "raise"
        # Under "raise", rows after the lowest failure found so far are skipped, but rows
        # before it are still loaded: the error raised is that of the first failing row,
        # whatever the thread timing.
        first_failure = [math.inf]
        lock = threading.Lock()

        def load_rows(rows: range) -> list[tuple[int, Exception]]:
            failures = []
            n_done = n_decoded = 0
            for row in rows:
                if row > first_failure[0]:
                    break
                n_done += 1
                if present is not None and not present[row]:
                    continue
                try:
                    path = _resolve(paths[row], base_dir, root)
                    key = None if cache is None else cache.key(path)
                    cached = None if key is None else cache.get(key)
                    if cached is not None:
                        images[row] = cached
                        continue
                    images[row] = np.asarray(_decode(path, spec)).reshape(images.shape[1:])
                    n_decoded += 1
                    if key is not None:
                        cache.put(key, images[row])
                except (FileNotFoundError, ValueError, TypeError) as exc:
                    where = row if row_positions is None else int(row_positions[row])
                    failures.append((row, _with_row(exc, where, labels)))
                    if stop_at_first:
                        with lock:
                            first_failure[0] = min(first_failure[0], row)
                        break
            DECODES.add(n_decoded)
            if bar is not None:
                # Once per chunk, not per row, so that the threads rarely meet on its lock.
                bar.update(n_done)
            return failures

        n_rows = len(paths)
        threads = _n_threads(self.n_jobs) if n_threads is None else n_threads
        n_workers = max(1, min(threads, n_rows))
        # A few chunks per thread balances uneven files without one task per row; a bar
        # needs chunks small enough to move, even on one thread.
        chunk = max(1, min(32 if progress else 256, math.ceil(n_rows / (4 * n_workers))))
        chunks = [range(i, min(i + chunk, n_rows)) for i in range(0, n_rows, chunk)]
        bar = _Progress(n_rows) if progress else None
        try:
            if n_workers == 1:
                failures = [f for rows in chunks for f in load_rows(rows)]
            else:
                with ThreadPoolExecutor(max_workers=n_workers) as pool:
                    failures = [f for part in pool.map(load_rows, chunks) for f in part]
        finally:
            if bar is not None:
                bar.close()
        if cache is not None and cache.stored:
            cache.enforce_bound()
        failures.sort(key=lambda failure: failure[0])
        if failures and stop_at_first:
            raise failures[0][1]
        return failures
