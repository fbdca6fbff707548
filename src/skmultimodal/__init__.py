"""skmultimodal: multimodal Keras models as scikit-learn estimators.

The public names are imported lazily so that ``import skmultimodal`` and the
preprocessing transformers stay usable without loading TensorFlow; only touching
``MultiInputKerasClassifier`` / ``MultiInputKerasRegressor`` imports Keras.
"""

import importlib

__version__ = "0.1.0"

_PUBLIC = {
    "ImageLoader": "image",
    "ImageEmbedder": "embedding",
    "TextTokenizer": "text",
    "TextTfidfVectorizer": "text",
    "BackboneTokenizer": "text_backbone",
    "TextEmbedder": "text_backbone",
    "TimeStepReshaper": "sequence",
    "ArrayColumnStacker": "sequence",
    "MultiInputTransformer": "compose",
    "make_multi_input_transformer": "compose",
    "MultiInputKerasClassifier": "estimators",
    "MultiInputKerasRegressor": "estimators",
    "MultimodalEnsembleClassifier": "ensemble",
    "MultimodalEnsembleRegressor": "ensemble",
    "export": "export",
    "datasets": None,
    "persistence": None,
    "auto": None,
    "plotting": None,
    "missing": None,
    "inspection": None,
    "ensemble": None,
}

__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'skmultimodal' has no attribute {name!r}")
    module_name = _PUBLIC[name]
    if module_name is None:
        return importlib.import_module(f"{__name__}.{name}")
    value = getattr(importlib.import_module(f"{__name__}.{module_name}"), name)
    if name == module_name:
        # Importing the submodule bound its name here to the module; the public name is
        # the function of the same name (``skmultimodal.export``).
        globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
