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
included in the ``test`` extra); this module does not import it.
"""

from __future__ import annotations

import re
import warnings
from importlib import metadata

__all__ = ["trusted_types"]

# Keras releases before 3.14 let a crafted ``.keras`` archive run code despite
# safe_mode=True (CVE-2025-1550 fixed in 3.9, CVE-2025-9906 in 3.11, CVE-2026-1462 in 3.14).
_FIRST_SAFE_KERAS = (3, 14)

# Fully qualified names, as skops.io.get_untrusted_types reports them. scikit-learn's own
# estimators (Pipeline, StandardScaler, OneHotEncoder...) are trusted by skops already.
_TRUSTED_TYPES = (
    "numpy.dtype",
    "scikeras.utils.transformers.ClassifierLabelEncoder",
    "scikeras.utils.transformers.RegressorTargetEncoder",
    "scikeras.utils.transformers.TargetReshaper",
    "skmultimodal.compose.MultiInputTransformer",
    "skmultimodal.estimators.MultiInputKerasClassifier",
    "skmultimodal.estimators.MultiInputKerasRegressor",
    "skmultimodal.estimators._MultiOutputLabelEncoder",
    "skmultimodal.estimators._RegressionTargetScaler",
    "skmultimodal.image.ImageLoader",
    "skmultimodal.sequence.TimeStepReshaper",
    "skmultimodal.text.TextTfidfVectorizer",
    "skmultimodal.text.TextTokenizer",
)


def trusted_types() -> list[str]:
    """Type names to pass as ``trusted`` to ``skops.io.load`` for skmultimodal objects.

    The list names the skmultimodal estimators and transformers, the SciKeras target
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
