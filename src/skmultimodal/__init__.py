"""skmultimodal: multimodal Keras models as scikit-learn estimators.

The public names are imported lazily so that ``import skmultimodal`` and the
preprocessing transformers stay usable without loading TensorFlow; only touching
``MultiInputKerasClassifier`` / ``MultiInputKerasRegressor`` imports Keras.
"""

import importlib

__version__ = "0.1.0"

_PUBLIC = {
    "ImageLoader": "image",
    "TextTokenizer": "text",
    "TextTfidfVectorizer": "text",
    "TimeStepReshaper": "sequence",
    "ArrayColumnStacker": "sequence",
    "MultiInputTransformer": "compose",
    "make_multi_input_transformer": "compose",
    "MultiInputKerasClassifier": "estimators",
    "MultiInputKerasRegressor": "estimators",
    "datasets": None,
    "persistence": None,
    "auto": None,
    "plotting": None,
    "inspection": None,
}

__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'skmultimodal' has no attribute {name!r}")
    module_name = _PUBLIC[name]
    if module_name is None:
        return importlib.import_module(f"{__name__}.{name}")
    return getattr(importlib.import_module(f"{__name__}.{module_name}"), name)


def __dir__():
    return sorted(__all__)
