"""Save and load fitted pipelines safely with ``skops.io``.

``pickle`` and ``joblib`` files run arbitrary code when loaded: only load those you made.
``skops.io`` stores an object as a tree of plain values and refuses, at load time, every
type that is not on an explicit list. A fitted skmultimodal pipeline holds only numbers,
strings, numpy arrays, scikit-learn estimators, the classes named by :func:`trusted_types`,
and, for each Keras estimator, its model as the bytes of a ``.keras`` archive. Those bytes
are turned back into a model by ``keras.saving.load_model(..., safe_mode=True)``, which
rebuilds layers from their configuration and refuses serialized Python code (``Lambda``
layers) and unregistered custom classes (Keras closed the last known ways around safe
mode in 3.14; :func:`trusted_types` warns with an older Keras). So
``skops.io.load(file, trusted=trusted_types())`` builds only the types that skops trusts by
default (builtins, numpy, scikit-learn) or that this list names, and Keras models only from
Keras' own layers.

What is not on the list, on purpose: a ``model`` callable of your own, Keras callback
objects in ``callbacks``, and optimizer or loss *objects* (strings such as ``"adam"`` need
nothing). ``skops.io.get_untrusted_types(file=...)`` shows them; add their names after
checking that they are yours. ``skops`` is an optional dependency (``pip install skops``,
or ``pip install 'skmultimodal[cli]'``); this module imports it only in :func:`save` and
:func:`load`.

Trusted types can still carry crafted values: a ``TextTokenizer`` whose ``max_len_`` is
``10**11`` or an ``ImageLoader`` whose ``target_size`` is ``(100000, 100000)`` would try
to allocate terabytes at the first ``transform``. :func:`load` (and
:func:`check_loaded`, for objects loaded otherwise) refuses fitted objects whose sizes
exceed the documented bounds ``MAX_SEQUENCE_LENGTH``, ``MAX_VOCABULARY_SIZE`` and
``MAX_IMAGE_PIXELS``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from importlib import metadata
from numbers import Integral
from typing import Any

__all__ = [
    "MAX_IMAGE_PIXELS",
    "MAX_SEQUENCE_LENGTH",
    "MAX_VOCABULARY_SIZE",
    "check_loaded",
    "load",
    "save",
    "trusted_types",
]

# Bounds on what a loaded object may allocate (checked by ``check_loaded``).
# Token ids per text (TextTokenizer.max_len_): a transform allocates n_texts * this int32s.
MAX_SEQUENCE_LENGTH = 1_000_000
# Ids of a TextTokenizer vocabulary or of a Keras estimator's token input; the same bound
# as ``skmultimodal.estimators.MAX_VOCABULARY_SIZE`` (not imported: it loads TensorFlow).
MAX_VOCABULARY_SIZE = 10_000_000
# Pixels (height * width) of an ImageLoader's target_size: 4096 x 4096.
MAX_IMAGE_PIXELS = 4096 * 4096
#: Largest ``ImageLoader.max_pixels`` (pixels of one file decoded) a loaded file may set.
MAX_DECODED_PIXELS = 1_000_000_000
#: Largest ``n_jobs`` (in absolute value) a loaded file may set.
MAX_N_JOBS = 64

# Keras releases before 3.14 let a crafted ``.keras`` archive run code despite
# safe_mode=True (CVE-2025-1550 fixed in 3.9, CVE-2025-9906 in 3.11, CVE-2026-1462 in 3.14).
_FIRST_SAFE_KERAS = (3, 14)

# Fully qualified names, as skops.io.get_untrusted_types reports them. scikit-learn's own
# estimators (Pipeline, StandardScaler, OneHotEncoder...) are trusted by skops already.
_TRUSTED_TYPES = (
    # A partial's own function is checked as a type of its own.
    "functools.partial",
    "numpy.dtype",
    "scikeras.utils.transformers.ClassifierLabelEncoder",
    "scikeras.utils.transformers.RegressorTargetEncoder",
    "scikeras.utils.transformers.TargetReshaper",
    # What a fitted HistGradientBoosting member of the ensembles holds.
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
    "skmultimodal._targets._MultiOutputLabelEncoder",
    "skmultimodal._targets._RegressionTargetScaler",
    "skmultimodal.auto.ColumnRoles",
    "skmultimodal.compose.MultiInputTransformer",
    "skmultimodal.ensemble.MultimodalEnsembleClassifier",
    "skmultimodal.ensemble.MultimodalEnsembleRegressor",
    "skmultimodal.ensemble._pixels_on_white",
    "skmultimodal.ensemble._text_of",
    "skmultimodal.estimators.MultiInputKerasClassifier",
    "skmultimodal.estimators.MultiInputKerasRegressor",
    # Where skmultimodal 0.1.0 defined the target encoders (files it saved name them so).
    "skmultimodal.estimators._MultiOutputLabelEncoder",
    "skmultimodal.estimators._RegressionTargetScaler",
    "skmultimodal.image.ImageLoader",
    "skmultimodal.missing.MaskMissingRows",
    "skmultimodal.sequence.ArrayColumnStacker",
    "skmultimodal.sequence.SequenceLinearScores",
    "skmultimodal.sequence.SequencePadder",
    "skmultimodal.sequence.TimeStepReshaper",
    "skmultimodal.sequence.sequence_statistics",
    "skmultimodal.text.TextLinearScores",
    "skmultimodal.text.TextTfidfVectorizer",
    "skmultimodal.text.TextTokenizer",
)


def trusted_types() -> list[str]:
    """Type names to pass as ``trusted`` to ``skops.io.load`` for skmultimodal objects.

    The list names the skmultimodal estimators and transformers (the ensembles with the
    two functions and the scikit-learn types their members hold), the SciKeras target
    encoders that the Keras estimators keep after fit, and ``numpy.dtype`` (stored as an
    empty array, rebuilt without pickle). With it, ``skops.io.load`` loads any pipeline
    made of these and of scikit-learn estimators, and still refuses everything else.

    Returns
    -------
    list of str
        Fully qualified type names, sorted.

    Warns
    -----
    UserWarning
        When the installed Keras is older than 3.14, whose safe mode has known bypasses.

    See Also
    --------
    skops.io.get_untrusted_types : lists the types in a file that need trusting.

    Notes
    -----
    The Keras model inside a fitted estimator is stored as the bytes of a ``.keras``
    archive and loaded back with Keras' ``safe_mode=True``: a model with ``Lambda``
    layers cannot be loaded (rebuild it without them), and custom layers must be
    registered with ``keras.saving.register_keras_serializable`` in a module imported
    before loading.

    Examples
    --------
    >>> import numpy as np
    >>> import skops.io as sio
    >>> from skmultimodal.estimators import MultiInputKerasClassifier
    >>> from skmultimodal.persistence import trusted_types
    >>> rng = np.random.RandomState(0)
    >>> X = {"num": rng.rand(20, 3)}
    >>> y = (X["num"][:, 0] > 0.5).astype(int)
    >>> clf = MultiInputKerasClassifier(tabular_units=4, epochs=1, random_state=0).fit(X, y)
    >>> data = sio.dumps(clf)
    >>> set(sio.get_untrusted_types(data=data)) <= set(trusted_types())
    True
    >>> restored = sio.loads(data, trusted=trusted_types())
    >>> bool((restored.predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    version = _installed_keras_version()
    if version is not None and _major_minor(version) < _FIRST_SAFE_KERAS:
        warnings.warn(
            f"Keras {version} is installed; Keras before 3.14 can run code from a crafted "
            "model archive even in safe mode, so a skops file from an untrusted source is "
            "not safe to load with it. Upgrade Keras (pip install 'keras>=3.14').",
            UserWarning,
            stacklevel=2,
        )
    return list(_TRUSTED_TYPES)


def _installed_keras_version() -> str | None:
    # Read from the package metadata: importing Keras would load TensorFlow.
    try:
        return metadata.version("keras")
    except metadata.PackageNotFoundError:
        return None


def _major_minor(version: str) -> tuple[int, int]:
    match = re.match(r"(\d+)\.(\d+)", version)
    return (int(match[1]), int(match[2])) if match else (0, 0)


def save(obj: Any, file: Any) -> None:
    """Write a fitted estimator or pipeline to a ``.skops`` file (``skops.io.dump``).

    Parameters
    ----------
    obj : object
        The estimator or pipeline.
    file : str, os.PathLike or file object
        Where to write it.
    """
    import skops.io as sio

    sio.dump(obj, file)


def load(file: Any, trusted: list[str] | None = None) -> Any:
    """Load a ``.skops`` file written by :func:`save`, refusing untrusted types and sizes.

    Parameters
    ----------
    file : str, os.PathLike or file object
        The file.
    trusted : list of str, default=None
        Type names trusted in addition to :func:`trusted_types` (your own ``model``
        callable, after checking it is yours).

    Returns
    -------
    object
        The loaded estimator or pipeline, checked by :func:`check_loaded`.

    Raises
    ------
    skops.io.exceptions.UntrustedTypesFoundException
        When the file holds a type that is neither trusted by skops nor listed.
    ValueError
        When a loaded object exceeds a size bound (see :func:`check_loaded`).
    """
    import skops.io as sio

    obj = sio.load(file, trusted=trusted_types() + list(trusted or []))
    check_loaded(obj)
    return obj


def check_loaded(obj: Any) -> None:
    """Refuse a loaded object whose fitted sizes would allocate unbounded memory.

    Walks ``obj`` and every estimator it holds (pipeline steps, fitted transformers...)
    and checks ``TextTokenizer``'s ``max_len(_)``, ``max_words`` and
    ``vocabulary_size_``, ``ImageLoader``'s ``target_size`` and ``output_shape_``,
    ``TimeStepReshaper.output_shape_`` and the Keras estimators' ``vocabulary_sizes_``
    against ``MAX_SEQUENCE_LENGTH``, ``MAX_VOCABULARY_SIZE`` and ``MAX_IMAGE_PIXELS``;
    ``MaskMissingRows.output_shape_``; ``ImageLoader.max_pixels`` (a bound, at most
    ``MAX_DECODED_PIXELS``) and every ``n_jobs`` (at most ``MAX_N_JOBS``); and refuses an
    ``ImageLoader`` or ``ImageEmbedder`` that names a ``cache_dir``, so that a loaded
    model reads, writes and deletes no folder the file chose.

    Parameters
    ----------
    obj : object
        What ``skops.io.load`` (or pickle) returned.

    Raises
    ------
    ValueError
        Naming the class, the attribute, its value and the bound.
    """
    for item in _walk(obj, set(), 0):
        checker = _CHECKS.get(type(item).__name__)
        if checker is not None and type(item).__module__.startswith("skmultimodal."):
            checker(item)


def _walk(obj: Any, seen: set, depth: int):
    """``obj`` and every object reachable from it through estimators, lists and dicts."""
    if id(obj) in seen or depth > 50:
        return
    seen.add(id(obj))
    yield obj
    if isinstance(obj, Mapping):
        children = list(obj.values())
    elif isinstance(obj, (list, tuple)):
        children = list(obj)
    elif hasattr(obj, "get_params") and isinstance(getattr(obj, "__dict__", None), dict):
        children = list(vars(obj).values())
    else:
        return
    for child in children:
        yield from _walk(child, seen, depth + 1)


def _refuse(obj: Any, attribute: str, value: Any, bound: str) -> None:
    raise ValueError(
        f"The loaded {type(obj).__name__} has {attribute}={value!r}, beyond {bound}; the "
        "file was not written by a normal fit (crafted or corrupted). Refit the model "
        "instead of loading this file."
    )


def _check_size(obj: Any, attribute: str, value: Any, limit: int, name: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, Integral) or not 0 < value <= limit:
        _refuse(obj, attribute, value, f"{name} = {limit:,}")


def _check_shape(obj: Any, attribute: str, shape: Any, limit: int, name: str) -> int:
    """The product of a shape of positive integers, refused beyond ``limit``."""
    dims = list(shape) if isinstance(shape, (list, tuple)) else None
    if not dims or not all(
        isinstance(d, Integral) and not isinstance(d, bool) and d > 0 for d in dims
    ):
        _refuse(obj, attribute, shape, "a shape of positive integers")
    size = 1
    for dim in dims:
        size *= int(dim)
    if size > limit:
        _refuse(obj, attribute, tuple(shape), f"{name} = {limit:,}")
    return size


def _check_text_tokenizer(obj: Any) -> None:
    for attribute in ("max_len", "max_len_"):
        value = getattr(obj, attribute, None)
        _check_size(obj, attribute, value, MAX_SEQUENCE_LENGTH, "MAX_SEQUENCE_LENGTH")
    for attribute in ("max_words", "vocabulary_size_"):
        value = getattr(obj, attribute, None)
        _check_size(obj, attribute, value, MAX_VOCABULARY_SIZE, "MAX_VOCABULARY_SIZE")


def _check_no_cache_dir(obj: Any) -> None:
    """A loaded object writes no file: a cache folder named in the file is refused."""
    cache_dir = getattr(obj, "cache_dir", None)
    if cache_dir is not None:
        raise ValueError(
            f"The loaded {type(obj).__name__} has cache_dir={cache_dir!r}: a loaded model "
            "reads and writes no folder that the file names (a crafted file could fill or "
            "empty any folder). Save models with cache_dir=None, and set the cache after "
            "loading: set_params(..., cache_dir=<your folder>)."
        )


def _check_n_jobs(obj: Any) -> None:
    n_jobs = getattr(obj, "n_jobs", None)
    if n_jobs is None:
        return
    if (
        isinstance(n_jobs, bool)
        or not isinstance(n_jobs, Integral)
        or not (-MAX_N_JOBS <= n_jobs <= MAX_N_JOBS and n_jobs != 0)
    ):
        _refuse(obj, "n_jobs", n_jobs, f"MAX_N_JOBS = {MAX_N_JOBS} (threads or processes)")


def _check_image_loader(obj: Any) -> None:
    _check_no_cache_dir(obj)
    _check_n_jobs(obj)
    max_pixels = getattr(obj, "max_pixels", "absent")
    if max_pixels != "absent":  # loaders saved before max_pixels existed lack it
        if max_pixels is None:
            _refuse(obj, "max_pixels", None, "a bound on decoded pixels (None decodes any size)")
        _check_size(obj, "max_pixels", max_pixels, MAX_DECODED_PIXELS, "MAX_DECODED_PIXELS")
    pixels = ("MAX_IMAGE_PIXELS (height * width)", MAX_IMAGE_PIXELS)
    _check_shape(obj, "target_size", getattr(obj, "target_size", None), pixels[1], pixels[0])
    shape = getattr(obj, "output_shape_", None)
    if shape is None:
        return
    if not isinstance(shape, (list, tuple)) or len(shape) != 3 or shape[2] not in (1, 3, 4):
        _refuse(obj, "output_shape_", shape, "a (height, width, 1, 3 or 4 channels) shape")
    _check_shape(obj, "output_shape_", shape[:2], pixels[1], pixels[0])


def _check_time_step_reshaper(obj: Any) -> None:
    shape = getattr(obj, "output_shape_", None)
    if shape is None:
        return
    size = _check_shape(obj, "output_shape_", shape, 2**31 - 1, "2**31 - 1 values per row")
    n_features = getattr(obj, "n_features_in_", None)
    if len(shape) != 2 or (n_features is not None and size != n_features):
        _refuse(obj, "output_shape_", shape, f"a (timesteps, features) split of {n_features}")


def _check_mask_missing_rows(obj: Any) -> None:
    shape = getattr(obj, "output_shape_", None)
    if shape is not None:
        _check_shape(obj, "output_shape_", shape, 2**31 - 1, "2**31 - 1 values per row")


def _check_multi_input_transformer(obj: Any) -> None:
    _check_n_jobs(obj)


def _check_keras_estimator(obj: Any) -> None:
    for key, value in (getattr(obj, "vocabulary_sizes_", None) or {}).items():
        attribute = f"vocabulary_sizes_[{key!r}]"
        _check_size(obj, attribute, value, MAX_VOCABULARY_SIZE, "MAX_VOCABULARY_SIZE")


_CHECKS = {
    "TextTokenizer": _check_text_tokenizer,
    "ImageLoader": _check_image_loader,
    "TimeStepReshaper": _check_time_step_reshaper,
    "MaskMissingRows": _check_mask_missing_rows,
    "MultiInputTransformer": _check_multi_input_transformer,
    "ImageEmbedder": _check_no_cache_dir,
    "MultimodalEnsembleClassifier": _check_n_jobs,
    "MultimodalEnsembleRegressor": _check_n_jobs,
    "MultiInputKerasClassifier": _check_keras_estimator,
    "MultiInputKerasRegressor": _check_keras_estimator,
}
