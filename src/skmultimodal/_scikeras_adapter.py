"""The SciKeras adapter: what makes SciKeras' wrappers fit for skmultimodal's estimators.

SciKeras stays the base of :class:`~skmultimodal.MultiInputKerasClassifier` and
:class:`~skmultimodal.MultiInputKerasRegressor`; every repair of it lives in classes
defined here, never in SciKeras' own (see docs/design.md, "SciKeras repairs"):

- :class:`_SklearnMixinsFirst` puts scikit-learn's mixins before ``BaseEstimator`` in the
  MRO, which SciKeras' base order gets wrong.
- :class:`_MultiInputWrapper` stores the shared constructor parameters, translates
  SciKeras' legacy tags into ``__sklearn_tags__``, replaces ``_initialize`` (input and
  target encoders that take a dict; no SciKeras seeding context) and pickles the Keras
  model as the bytes of a ``.keras`` archive. It gathers the concerns kept in their own
  modules: parameter checks (``_params``), input validation (``_validation``), model
  building (``_building``) and training (``_training``).

The private SciKeras methods this module and its mixins override (``_validate_data``,
``_initialize``, ``_build_keras_model``, ``_get_metadata``, ``_fit``,
``_fit_keras_model``, ``_predict_raw``, ``_validate_sample_weight``,
``_ensure_compiled_model``, ``_type_of_target``, ``__getstate__``) are why ``scikeras`` is
pinned to 0.13.x.
"""

from __future__ import annotations

import copy
import inspect
import tempfile
import warnings
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import keras
from scikeras.wrappers import BaseWrapper
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    TransformerMixin,
)

from ._building import _ModelBuilding
from ._params import _ParameterValidation
from ._training import _Training
from ._validation import _InputValidation

_SKLEARN_MIXINS = (ClassifierMixin, RegressorMixin, TransformerMixin)


class _SklearnMixinsFirst(type):
    """Metaclass that puts scikit-learn mixins before ``BaseEstimator`` in the MRO.

    SciKeras declares ``KerasClassifier(BaseWrapper, ClassifierMixin)``, so
    ``ClassifierMixin`` comes after ``BaseEstimator`` and its ``__sklearn_tags__`` is
    never reached: ``is_classifier`` is False and ``cross_val_score`` silently uses
    ``KFold``. A subclass cannot reorder its bases (C3 linearisation rejects it), but a
    metaclass may compute the MRO; the only change is that each mixin moves right before
    ``BaseEstimator``, which is the order scikit-learn requires.
    """

    def mro(cls):
        order = super().mro()
        if BaseEstimator not in order:
            return order
        after_base = order[order.index(BaseEstimator) + 1 :]
        late_mixins = [klass for klass in after_base if klass in _SKLEARN_MIXINS]
        for mixin in late_mixins:
            order.remove(mixin)
        position = order.index(BaseEstimator)
        return order[:position] + late_mixins + order[position:]


class _FeaturePassthrough(TransformerMixin, BaseEstimator):
    """Stateless feature encoder that hands validated inputs to Keras unchanged.

    SciKeras' default ``FunctionTransformer`` re-validates ``X`` and rejects dicts.
    """

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X

    def __sklearn_is_fitted__(self):
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class _MultiInputWrapper(_ParameterValidation, _InputValidation, _ModelBuilding, _Training):
    """Behaviour shared by the classifier and the regressor (placed before SciKeras).

    The constructor parameters shared by both estimators are stored here; each public
    class adds its own and documents them all.
    """

    def __init__(
        self,
        model=None,
        *,
        input_kinds=None,
        image_filters=(32, 64),
        image_pooling="flatten",
        image_augmentation=(),
        image_backbone=None,
        image_backbone_weights="imagenet",
        image_backbone_trainable=False,
        text_backbone=None,
        text_backbone_trainable=False,
        text_embedding_trainable=True,
        text_embedding_dim=100,
        text_units=256,
        text_bidirectional=False,
        text_cell="conv",
        sequence_units=64,
        sequence_cell="conv",
        sequence_bidirectional=False,
        sequence_summary=True,
        sequence_linear="auto",
        tabular_units=32,
        head_units=(),
        dropout=0.5,
        recurrent_dropout=0.0,
        batch_norm=False,
        wide_inputs="sparse",
        wide_l2=1e-3,
        modality_dropout=0.0,
        fusion="joint",
        optimizer="adam",
        loss=None,
        metrics=None,
        batch_size=32,
        validation_batch_size=None,
        epochs="auto",
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        early_stopping="auto",
        patience=5,
        min_epochs="auto",
        shuffle=True,
        run_eagerly=False,
        warm_start=False,
        random_state=None,
        **kwargs,
    ):
        self.model = model
        self.input_kinds = input_kinds
        self.image_filters = image_filters
        self.image_pooling = image_pooling
        self.image_augmentation = image_augmentation
        self.image_backbone = image_backbone
        self.image_backbone_weights = image_backbone_weights
        self.image_backbone_trainable = image_backbone_trainable
        self.text_backbone = text_backbone
        self.text_backbone_trainable = text_backbone_trainable
        self.text_embedding_trainable = text_embedding_trainable
        self.text_embedding_dim = text_embedding_dim
        self.text_units = text_units
        self.text_bidirectional = text_bidirectional
        self.text_cell = text_cell
        self.sequence_units = sequence_units
        self.sequence_cell = sequence_cell
        self.sequence_bidirectional = sequence_bidirectional
        self.sequence_summary = sequence_summary
        self.sequence_linear = sequence_linear
        self.tabular_units = tabular_units
        self.head_units = head_units
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.batch_norm = batch_norm
        self.wide_inputs = wide_inputs
        self.wide_l2 = wide_l2
        self.modality_dropout = modality_dropout
        self.fusion = fusion
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.batch_size = batch_size
        self.validation_batch_size = validation_batch_size
        self.epochs = epochs
        self.verbose = verbose
        self.callbacks = callbacks
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.patience = patience
        self.min_epochs = min_epochs
        self.shuffle = shuffle
        self.run_eagerly = run_eagerly
        self.warm_start = warm_start
        self.random_state = random_state
        # Routed parameters (``optimizer__learning_rate``, ``fit__batch_size``...) and the
        # keyword arguments of a ``model`` callable: parameters too (get_params,
        # set_params, clone), kept apart from the attributes that the class declares.
        self._extra_params = kwargs

    # The model-building hook of SciKeras' ``model`` parameter; skmultimodal's default
    # model is built by ``_ModelBuilding`` instead (model=None).
    build_fn = None

    __repr__ = BaseEstimator.__repr__

    # -- parameters given as keyword arguments -------------------------------------------
    def __getattr__(self, name: str):
        # Reached only when ``name`` is not an attribute: ``clf.optimizer__learning_rate``.
        extra = vars(self).get("_extra_params", {})
        if name in extra:
            return extra[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _get_param_names(self):
        # SciKeras lists the public attributes; the keyword arguments come on top.
        return [*super()._get_param_names(), *vars(self).get("_extra_params", {})]

    @property
    def _user_params(self) -> set:
        # SciKeras passes these unprefixed keyword arguments on to a ``model`` callable.
        return set(vars(self).get("_extra_params", {}))

    def set_params(self, **params):
        """Set the parameters of this estimator, routed ones (``fit__epochs``) included.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self
        """
        extra = dict(vars(self).get("_extra_params", {}))
        others = {}
        for name, value in params.items():
            prefix, routed, _ = name.partition("__")
            if name in extra or (routed and prefix in self._routing_prefixes):
                extra[name] = value
            else:
                others[name] = value
        # A new dict: a shallow copy of this estimator keeps its own parameters.
        self._extra_params = extra
        return super().set_params(**others)

    def fit(self, X, y, sample_weight=None, **kwargs):
        """Build a new model and fit it to ``(X, y)``.

        Parameters
        ----------
        X : dict of str to ndarray, or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            Normalised to mean 1 before training; zero-weight samples are dropped.
        **kwargs
            Passed to ``keras.Model.fit``.

        Returns
        -------
        self
        """
        self._require_y(y)
        self._validate_params_before_fit()
        # Pretrained word vectors of the fitted vocabularies (compose.FittedInputs).
        self._fit_embedding_matrices = dict(getattr(X, "embedding_matrices", {}))
        with self._state_restored_on_error():
            sample_weight = self._start_fit(y, sample_weight)
            # BaseWrapper's own fit, not KerasClassifier's: that one multiplies the
            # caller's sample_weight in place by the class weights (the classifier's
            # _start_fit builds a new array instead).
            BaseWrapper.fit(self, X, y, sample_weight=sample_weight, **kwargs)
        return self

    def _start_fit(self, y, sample_weight):
        """Reset what the previous fit learnt about ``y``; return the sample weights to use."""
        return sample_weight

    @property
    def feature_encoder(self):
        return _FeaturePassthrough()

    def _get_metadata(self) -> dict:
        # SciKeras passes every fitted attribute as ``meta``; on a refit that would
        # include the previous model and history, which belong to no new model.
        meta = super()._get_metadata()
        for stale in ("model_", "history_"):
            meta.pop(stale, None)
        return meta

    def _initialize(self, X, y=None):
        self._check_params()
        # Seeding is done once around the whole fit (``_Training._fit``). SciKeras'
        # ``_initialize`` (replaced here) sets ``_random_state``, which its
        # ``_build_keras_model`` and ``_fit_keras_model`` read to open their own seeding
        # context; that context leaks TensorFlow op determinism, so it is set to None.
        self._random_state = None
        X, y = self._validate_data(X, y, reset=True)
        self.target_encoder_ = self._fit_target_encoder(y)
        vars(self).update(getattr(self.target_encoder_, "get_metadata", dict)())
        self.feature_encoder_ = self.feature_encoder.fit(X)
        vars(self).update(getattr(self.feature_encoder_, "get_metadata", dict)())
        self.model_ = self._build_keras_model()
        self._initialize_callbacks()
        return X, y

    def _fit_target_encoder(self, y):
        return self.target_encoder.fit(y)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # SciKeras 0.13 describes itself with the legacy ``_tags`` dict (read by the
        # ``_more_tags`` that scikit-learn 1.6 removed): translate what it says.
        legacy = getattr(self, "_tags", {})
        tags.target_tags.multi_output = bool(legacy.get("multioutput", False))
        poor_score = bool(legacy.get("poor_score", False))
        for estimator_tags in (tags.classifier_tags, tags.regressor_tags):
            if estimator_tags is not None:
                estimator_tags.poor_score = poor_score
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags

    # -- persistence ------------------------------------------------------------------
    # Keras objects that are stored as the bytes of a ``.keras`` archive: the fitted
    # model, and the ``model``, ``image_backbone`` and ``text_backbone`` parameters when
    # they are models.
    _keras_model_attributes = ("model", "model_", "image_backbone", "text_backbone")

    def __getstate__(self) -> dict:
        """Plain-data state for pickle, joblib and ``skops.io``.

        A Keras model becomes the bytes of a ``.keras`` archive (architecture, weights,
        optimizer state), so the state holds only numbers, strings, arrays, bytes and a
        few estimator classes, and ``skops.io`` has no Keras type to trust. The compiled
        callback lists and the stateless feature encoder are not stored
        (``__setstate__`` rebuilds them); callbacks given as parameters are stored
        without the link to the model they last trained, which Keras sets at each fit.
        """
        state = dict(super().__getstate__())
        for transient in ("_fit_callbacks", "_predict_callbacks"):
            state.pop(transient, None)
        if "callbacks" in state:
            state["callbacks"] = _detached_callbacks(state["callbacks"])
        state["_extra_params"] = {
            name: _detached_callbacks(value) if name.endswith("__callbacks") else value
            for name, value in state.get("_extra_params", {}).items()
        }
        if type(state.get("feature_encoder_")) is _FeaturePassthrough:
            del state["feature_encoder_"]
        if isinstance(state.get("history_"), Mapping):
            state["history_"] = {key: list(values) for key, values in state["history_"].items()}
        for name in self._keras_model_attributes:
            if isinstance(state.get(name), keras.Model):
                state[name] = _keras_model_to_bytes(state[name])
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        if "_extra_params" not in state:
            # Saved by skmultimodal 0.1.0, which kept keyword arguments as attributes.
            known = set(inspect.signature(type(self).__init__).parameters)
            state["_extra_params"] = {
                name: state.pop(name)
                for name in list(state)
                if not name.startswith("_") and not name.endswith("_") and name not in known
            }
        text_backbone = state.get("text_backbone") is not None
        if text_backbone:
            # A keras-hub backbone's layers are registered when keras_hub is imported.
            from .text_backbone import import_keras_hub

            import_keras_hub(type(self).__name__)
        for name in self._keras_model_attributes:
            if isinstance(state.get(name), bytes):
                with warnings.catch_warnings():
                    if text_backbone:
                        # A frozen keras-hub layer's sublayers are built trainable on load
                        # (refrozen below), so the optimizer counts more variables than were
                        # saved and starts afresh: only a warm start after loading sees it.
                        warnings.filterwarnings(
                            "ignore", "Skipping variable loading for optimizer", UserWarning
                        )
                    state[name] = _keras_model_from_bytes(state[name], type(self).__name__)
                    if text_backbone:
                        _refreeze(state[name])
        super().__setstate__(state)
        if "model_" not in state:
            return
        vars(self).setdefault("feature_encoder_", _FeaturePassthrough())
        # SciKeras appends to the lists of ``history_`` on partial_fit / warm_start.
        self.history_ = defaultdict(list, state.get("history_", {}))
        self._initialize_callbacks()


def _detached_callbacks(value):
    """A callbacks parameter with copies of its callbacks that reference no model."""
    if isinstance(value, keras.callbacks.Callback):
        detached = copy.copy(value)
        detached.set_model(None)
        return detached
    if isinstance(value, (list, tuple)):
        return type(value)(_detached_callbacks(item) for item in value)
    if isinstance(value, Mapping):
        return {key: _detached_callbacks(item) for key, item in value.items()}
    return value


def _keras_model_to_bytes(model) -> bytes:
    # keras.saving only writes ``.keras`` archives to paths, not to file objects.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "model.keras")
        keras.saving.save_model(model, path)
        return path.read_bytes()


def _keras_model_from_bytes(archive: bytes, owner: str):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "model.keras")
        path.write_bytes(archive)
        try:
            # safe_mode=True refuses Lambda layers and other serialized Python code, so
            # loading a file runs no code that came from it. The ``.keras`` name keeps
            # Keras on its zip loader whatever the bytes are (its HDF5 loader has no
            # safe mode).
            return keras.saving.load_model(path, safe_mode=True)
        except Exception as error:
            raise ValueError(
                f"The Keras model stored with this {owner} cannot be restored in Keras' "
                f"safe mode ({type(error).__name__}: {error}). Safe mode refuses Lambda "
                "layers and custom layers that are not registered; register custom layers "
                "with keras.saving.register_keras_serializable and import their module "
                "before loading."
            ) from error


def _refreeze(model) -> None:
    """Freeze again the sublayers of every frozen layer of a loaded ``model``.

    Keras restores a layer's own ``trainable=False`` from its config, but a keras-hub layer
    (``TransformerEncoder``...) creates its sublayers when it is built, trainable.
    """
    frozen = [layer for layer in model._flatten_layers(include_self=False) if not layer.trainable]
    for layer in frozen:
        for sublayer in layer._flatten_layers(include_self=False):
            sublayer.trainable = False


def _merged_signature(init):
    """Give a public estimator's ``__init__`` the signature of every parameter it takes.

    A public estimator's ``__init__`` names only its own parameters and passes the shared
    ones on to :class:`_MultiInputWrapper` through ``**kwargs``. ``inspect.signature``
    (used by ``help``, and by scikit-learn for ``repr`` and its estimator checks) then
    shows every parameter with its default, as if each were written out: ``model``, the
    shared keyword-only parameters, the estimator's own, and ``**kwargs`` for routed ones.
    """
    own = inspect.signature(init).parameters
    shared = inspect.signature(_MultiInputWrapper.__init__).parameters
    keyword_only = inspect.Parameter.KEYWORD_ONLY
    parameters = [p for p in own.values() if p.kind is not keyword_only and p.name != "kwargs"]
    parameters += [p for name, p in shared.items() if p.kind is keyword_only and name not in own]
    parameters += [p for p in own.values() if p.kind is keyword_only]
    parameters.append(own["kwargs"])
    init.__signature__ = inspect.signature(init).replace(parameters=parameters)
    return init
