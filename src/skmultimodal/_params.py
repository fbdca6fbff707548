"""Constructor-parameter validation of the estimators.

Every parameter is checked at ``fit`` (never in ``__init__``), before any TensorFlow work:
scikit-learn's ``_parameter_constraints``, hand-written checks that keep their established
messages and cover what a constraint cannot (items of ``image_filters``,
``text_bidirectional`` with ``text_cell``...), routed parameters such as
``optimizer__learning_rate``, and unknown keyword arguments (with the closest valid name).
"""

from __future__ import annotations

import difflib
import inspect
import numbers
import os
from collections.abc import Iterable, Mapping

import keras
import numpy as np
from scikeras._utils import accepts_kwargs, has_param
from scikeras.wrappers import BaseWrapper
from sklearn.utils._param_validation import (
    Interval,
    Options,
    StrOptions,
    validate_parameter_constraints,
)

from .architecture import (
    BRANCH_NORMS,
    FUSIONS,
    IMAGE_AUGMENTATIONS,
    IMAGE_POOLINGS,
    IMAGENET,
    INPUT_KINDS,
    SEQUENCE_CELLS,
    TEXT_CELLS,
    WIDE_SPARSE,
    application_names,
)

_POSITIVE_INT = Interval(numbers.Integral, 1, None, closed="left")
_BATCH_SIZE = [_POSITIVE_INT, Options(numbers.Integral, {-1}), None]
_FRACTION = [Interval(numbers.Real, 0, 1, closed="left")]

# scikit-learn constraints of every constructor parameter shared by the classifier and the
# regressor (class_weight and blend_inputs are the classifier's only). The hand-written checks of
# ``_check_params`` run first: they keep their established messages and check what a
# constraint cannot (the items of image_filters, text_bidirectional with text_cell...).
_PARAMETER_CONSTRAINTS: dict = {
    "model": [None, callable],
    "input_kinds": [None, Mapping, StrOptions(set(INPUT_KINDS))],
    "image_filters": ["array-like"],
    "image_pooling": [StrOptions(set(IMAGE_POOLINGS))],
    "image_augmentation": ["array-like"],
    "text_embedding_dim": [_POSITIVE_INT],
    "text_units": [_POSITIVE_INT],
    "text_bidirectional": ["boolean"],
    "text_cell": [StrOptions(set(TEXT_CELLS))],
    "sequence_cell": [StrOptions(set(SEQUENCE_CELLS))],
    "sequence_bidirectional": ["boolean"],
    "sequence_summary": ["boolean"],
    "sequence_linear": ["boolean", StrOptions({"auto"})],
    "sequence_units": [_POSITIVE_INT],
    "tabular_units": [Interval(numbers.Integral, 0, None, closed="left")],
    "head_units": ["array-like", _POSITIVE_INT],
    "dropout": _FRACTION,
    "recurrent_dropout": _FRACTION,
    "batch_norm": ["boolean"],
    "branch_norm": [StrOptions(set(BRANCH_NORMS)), None],
    "wide_inputs": [StrOptions({WIDE_SPARSE}), "array-like", None],
    "wide_l2": [Interval(numbers.Real, 0, None, closed="left")],
    "modality_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    "fusion": [StrOptions(set(FUSIONS))],
    "image_backbone": [None, str, keras.Model],
    "image_backbone_weights": [None, str, os.PathLike],
    "image_backbone_trainable": ["boolean", Interval(numbers.Integral, 0, None, closed="left")],
    "text_backbone": [None, str, os.PathLike, keras.Model],
    "text_backbone_trainable": ["boolean", Interval(numbers.Integral, 0, None, closed="left")],
    "text_embedding_trainable": ["boolean"],
    "optimizer": [str, keras.optimizers.Optimizer, type],
    "loss": [str, callable, Mapping, list, tuple, None],
    "metrics": [str, list, tuple, Mapping, None],
    "batch_size": _BATCH_SIZE,
    "validation_batch_size": _BATCH_SIZE,
    "epochs": [_POSITIVE_INT, StrOptions({"auto"})],
    "verbose": ["verbose", StrOptions({"auto"})],
    "callbacks": [list, tuple, Mapping, keras.callbacks.Callback, type, None],
    "validation_split": _FRACTION,
    "early_stopping": ["boolean", StrOptions({"auto"})],
    "patience": [_POSITIVE_INT],
    "min_epochs": [Interval(numbers.Integral, 0, None, closed="left"), StrOptions({"auto"})],
    "shuffle": ["boolean"],
    "run_eagerly": ["boolean"],
    "warm_start": ["boolean"],
    "random_state": ["random_state"],
    "class_weight": [Mapping, StrOptions({"balanced"}), None],
    "blend_inputs": ["array-like", None],
}
# Parameters routed with ``fit__`` / ``predict__`` get the constraint of the plain one.
_ROUTED_CONSTRAINTS = {
    f"{destination}__{name}": _PARAMETER_CONSTRAINTS[name]
    for destination, names in (
        ("fit", ("batch_size", "validation_batch_size", "epochs", "verbose", "shuffle")),
        ("fit", ("validation_split",)),
        ("predict", ("batch_size", "verbose")),
    )
    for name in names
}
# Prefixes that SciKeras routes (BaseWrapper._routing_prefixes, plus the destinations it
# reads with route_params: callbacks and score).
_ROUTING_PREFIXES = tuple(sorted({*BaseWrapper._routing_prefixes, "callbacks", "score"}))
# Keyword arguments SciKeras passes on to Keras' fit / predict / compile without a prefix.
_SCIKERAS_PASSED_ON = (
    BaseWrapper._fit_kwargs | BaseWrapper._predict_kwargs | BaseWrapper._compile_kwargs
)
# Routed numbers that must be finite and > 0 (optimizer__learning_rate, optimizer__lr...).
_LEARNING_RATE_NAMES = ("learning_rate", "lr")


def _unknown_parameter_message(name: str, owner: str, known: list) -> str:
    """The error for a keyword argument that is neither a parameter nor routed."""
    prefix, routed, rest = name.partition("__")
    if routed:
        close = difflib.get_close_matches(prefix, _ROUTING_PREFIXES, n=1)
        guess = f"{close[0]}__{rest}" if close else None
        what = f"routes to unknown destination {prefix!r}"
    else:
        close = difflib.get_close_matches(name, known, n=1)
        guess = close[0] if close else None
        what = "is not a parameter"
    hint = f"Did you mean {guess!r}? " if guess else ""
    prefixes = ", ".join(f"{p}__" for p in _ROUTING_PREFIXES)
    return (
        f"{owner} got the keyword argument {name!r}, which {what}. {hint}Valid parameters "
        f"are listed by get_params(); routed ones take a prefix ({prefixes})."
    )


def _check_learning_rate(name: str, value) -> None:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return  # a schedule object or a string: Keras checks it
    if not (np.isfinite(value) and value > 0):
        raise ValueError(
            f"{name} must be a finite number > 0, got {value!r}; a typical Adam learning "
            "rate is 1e-3."
        )


def _is_int_at_least(value, minimum: int) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= minimum


class _ParameterValidation:
    """Estimator methods that check the constructor parameters at fit."""

    def _check_params(self) -> None:
        for name in ("epochs", "text_embedding_dim", "text_units", "sequence_units"):
            if name == "epochs" and self.epochs == "auto":
                continue
            if not _is_int_at_least(getattr(self, name), 1):
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}.")
        if not _is_int_at_least(self.tabular_units, 0):
            raise ValueError(
                f"tabular_units must be a non-negative integer, got {self.tabular_units!r}."
            )
        for name in ("image_filters", "head_units"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not all(
                _is_int_at_least(v, 1) for v in np.ravel(np.asarray(value, dtype=object))
            ):
                raise ValueError(f"{name} must be a sequence of positive integers, got {value!r}.")
        for name in ("dropout", "recurrent_dropout", "validation_split"):
            value = getattr(self, name)
            if not isinstance(value, (int, float, np.number)) or not 0 <= value < 1:
                raise ValueError(f"{name} must be a float in [0, 1), got {value!r}.")
        augmentation = self.image_augmentation
        if isinstance(augmentation, (str, bytes)) or not all(
            name in IMAGE_AUGMENTATIONS for name in np.ravel(np.asarray(augmentation, dtype=object))
        ):
            raise ValueError(
                "image_augmentation must be a sequence of names from "
                f"{tuple(IMAGE_AUGMENTATIONS)}, e.g. ('flip', 'translate'); got {augmentation!r}."
            )
        for name, options in (
            ("text_cell", TEXT_CELLS),
            ("image_pooling", IMAGE_POOLINGS),
            ("sequence_cell", SEQUENCE_CELLS),
        ):
            if getattr(self, name) not in options:
                raise ValueError(f"{name} must be one of {options}, got {getattr(self, name)!r}.")
        if self.branch_norm is not None and self.branch_norm not in BRANCH_NORMS:
            raise ValueError(
                f"branch_norm must be None or one of {BRANCH_NORMS}, got {self.branch_norm!r}."
            )
        wide = self.wide_inputs
        if not (
            wide is None
            or wide == WIDE_SPARSE
            or (
                not isinstance(wide, (str, bytes, Mapping))
                and isinstance(wide, Iterable)
                and all(isinstance(name, str) for name in wide)
            )
        ):
            raise ValueError(
                f"wide_inputs must be None, {WIDE_SPARSE!r} or a list of input names, got {wide!r}."
            )
        if (
            isinstance(self.wide_l2, (bool, np.bool_))
            or not isinstance(self.wide_l2, (int, float, np.number))
            or not np.isfinite(self.wide_l2)
            or self.wide_l2 < 0
        ):
            raise ValueError(f"wide_l2 must be a non-negative float, got {self.wide_l2!r}.")
        if self.text_bidirectional and self.text_cell not in ("lstm", "gru"):
            raise ValueError(
                "text_bidirectional=True needs text_cell='lstm' or 'gru', got "
                f"text_cell={self.text_cell!r}."
            )
        if self.sequence_bidirectional and self.sequence_cell not in ("lstm", "gru"):
            raise ValueError(
                "sequence_bidirectional=True needs sequence_cell='lstm' or 'gru', got "
                f"sequence_cell={self.sequence_cell!r}."
            )
        if not (isinstance(self.early_stopping, (bool, np.bool_)) or self.early_stopping == "auto"):
            raise ValueError(
                f"early_stopping must be True, False or 'auto', got {self.early_stopping!r}."
            )
        if not _is_int_at_least(self.patience, 1):
            raise ValueError(f"patience must be a positive integer, got {self.patience!r}.")
        if self.min_epochs != "auto" and not _is_int_at_least(self.min_epochs, 0):
            raise ValueError(
                f"min_epochs must be 'auto' or a non-negative integer, got {self.min_epochs!r}."
            )
        if self.input_kinds is not None and not isinstance(self.input_kinds, (Mapping, str)):
            raise TypeError(
                "input_kinds must be None, a dict {input name: kind} or (for a single array "
                f"input) one kind; got {self.input_kinds!r}."
            )
        _check_backbone_params(
            self.image_backbone, self.image_backbone_weights, self.image_backbone_trainable
        )
        _check_text_backbone_params(self.text_backbone, self.text_backbone_trainable)

    _parameter_constraints: dict = _PARAMETER_CONSTRAINTS

    def _validate_params_before_fit(self) -> None:
        """Check every parameter, before any TensorFlow work (fit, partial_fit).

        Raises
        ------
        ValueError or TypeError
            Naming the parameter, what was expected and, for an unknown keyword
            argument, the closest valid name.
        """
        self._check_params()
        self._check_unknown_params()
        params = self.get_params(deep=False)
        owner = type(self).__name__
        validate_parameter_constraints(self._parameter_constraints, params, caller_name=owner)
        validate_parameter_constraints(_ROUTED_CONSTRAINTS, params, caller_name=owner)
        for name, value in params.items():
            if "__" in name and name.rpartition("__")[2] in _LEARNING_RATE_NAMES:
                _check_learning_rate(name, value)
            elif "__" in name and isinstance(value, float) and np.isnan(value):
                raise ValueError(f"{name} is NaN; give it a number.")

    def _check_unknown_params(self) -> None:
        known = set(inspect.signature(type(self).__init__).parameters) - {"self", "kwargs"}
        for name in sorted(set(self.get_params(deep=False)) - known):
            prefix = name.partition("__")[0]
            if "__" in name and prefix in _ROUTING_PREFIXES:
                continue
            if name in _SCIKERAS_PASSED_ON or self._model_takes(name):
                continue
            candidates = sorted(known | self._model_param_names_taken())
            raise ValueError(_unknown_parameter_message(name, type(self).__name__, candidates))

    def _model_param_names_taken(self) -> set:
        model = self.model
        if model is None or isinstance(model, keras.Model) or not callable(model):
            return set()
        try:
            return set(inspect.signature(model).parameters) - {"meta", "compile_kwargs", "params"}
        except (TypeError, ValueError):  # a builtin without a signature
            return set()

    def _model_takes(self, name: str) -> bool:
        """Whether a ``model`` callable receives the unprefixed keyword argument ``name``."""
        model = self.model
        if model is None or isinstance(model, keras.Model) or not callable(model):
            return False
        return has_param(model, name) or accepts_kwargs(model)


# Suffixes of the weights files that ``keras.Model.load_weights`` reads.
_WEIGHTS_SUFFIXES = (".weights.h5", ".keras", ".h5")


def _check_backbone_params(backbone, weights, trainable) -> None:
    """Check ``image_backbone``, ``image_backbone_weights`` and ``image_backbone_trainable``.

    Raises
    ------
    ValueError or TypeError
        Naming the parameter; an unknown application name lists the closest names, a
        weights file that does not exist names its path.
    """
    if backbone is None:
        return
    if isinstance(backbone, str):
        names = application_names()
        if backbone not in names:
            close = difflib.get_close_matches(backbone, names, n=3, cutoff=0.5)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise ValueError(
                f"image_backbone={backbone!r} is not a keras.applications model.{hint} "
                f"Known names: {', '.join(names)}."
            )
    elif not isinstance(backbone, keras.Model):
        raise TypeError(
            "image_backbone must be None, the name of a keras.applications model (e.g. "
            f"'MobileNetV3Small') or a keras.Model; got {type(backbone).__name__}."
        )
    if weights is not None and weights != IMAGENET:
        if not isinstance(weights, (str, os.PathLike)):
            raise TypeError(
                f"image_backbone_weights must be 'imagenet', a path to a weights file or "
                f"None; got {type(weights).__name__}."
            )
        path = os.fspath(weights)
        if not os.path.isfile(path):
            raise ValueError(
                f"image_backbone_weights names the file {path!r}, which does not exist; give "
                "the path of a file written by the backbone's save_weights, 'imagenet' or None."
            )
        if not path.endswith(_WEIGHTS_SUFFIXES):
            raise ValueError(
                f"image_backbone_weights={path!r}: Keras reads weights from files named "
                f"*{', *'.join(_WEIGHTS_SUFFIXES)} (model.save_weights('backbone.weights.h5'))."
            )
    _check_trainable(trainable, "image_backbone_trainable")


def _check_trainable(trainable, parameter: str) -> None:
    if not (isinstance(trainable, (bool, np.bool_)) or _is_int_at_least(trainable, 0)):
        raise ValueError(
            f"{parameter} must be True, False or the number of top layers to "
            f"train (an integer >= 0); got {trainable!r}."
        )


def _check_text_backbone_params(backbone, trainable) -> None:
    """Check ``text_backbone`` (a keras-hub preset or a ``keras.Model``; keras-hub is
    installed) and ``text_backbone_trainable``."""
    _check_trainable(trainable, "text_backbone_trainable")
    if backbone is None:
        return
    from .text_backbone import check_preset, import_keras_hub

    if not isinstance(backbone, keras.Model):
        check_preset(backbone, "text_backbone")
    import_keras_hub("text_backbone")
