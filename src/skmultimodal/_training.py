"""Training and prediction of the estimators: seeding, early stopping, lazy batches.

:class:`_Training` replaces SciKeras' ``_fit``, ``_fit_keras_model`` and
``_predict_raw``: one seeding context around the whole fit, a stratified random hold-out
for early stopping, callbacks given to ``fit`` kept, lazily loaded images fed batch by
batch, a failed fit undone, and ``predict`` through the compiled ``predict_on_batch``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from contextlib import contextmanager

import keras
import numpy as np
from scikeras._utils import route_params
from scipy.special import logit
from sklearn.base import is_classifier
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted

from ._linear_start import AUTO_MIN_ROWS, fit_linear_start, summary_statistics
from ._seeding import seed_from_random_state, tensorflow_seed
from ._validation import _mean_one
from .architecture import (
    PRESENCE_KIND,
    AbsenceLogits,
    BlendLogits,
    GateBranches,
    LinearLogits,
    fit_blend_weights,
)
from .lazy import has_lazy_input, load_inputs, take_rows
from .lazy_dataset import (
    lazy_fit_arguments,
    lazy_predict_input,
    surfaced_decode_errors,
    to_model_batch,
)
from .missing import masked_input_name, presence_key

# Share of the training data held out for early stopping when validation_split is 0.
_EARLY_STOPPING_FRACTION = 0.1
# early_stopping="auto" stops early from this many training rows on: below it a 10%
# hold-out is too small and noisy to choose an epoch (HistGradientBoosting's "auto" rule,
# with a threshold that suits networks). On a product table of a few hundred rows,
# stopping early kept the fused model from overfitting its weaker inputs (docs/results.md).
_EARLY_STOPPING_AUTO_MIN_SAMPLES = 500
# min_epochs="auto": early stopping ends no fit before this share of the epochs. A label
# that needs two inputs jointly (an XOR) sits on a loss plateau for several epochs before
# the network finds the interaction; patience alone ended such fits at chance, and half of
# the epochs still did on one fold in three at 600 training rows (benchmarks/RESULTS.md,
# "Fusion suite, round 3").
_MIN_EPOCHS_FRACTION = 0.75
# epochs="auto": enough epochs for this many gradient updates, at least _AUTO_MIN_EPOCHS
# and at most _AUTO_MAX_EPOCHS. On small real series sets (36-270 training rows: 2-9
# batches an epoch) 10 or 20 epochs left the network at one class, where 100 epochs
# reached the summary-statistics baseline (benchmarks/RESULTS.md, "Real series"). From
# about 1,600 training rows on, the rule gives the floor (the 20 epochs that the fusion
# suite was judged with); early stopping still ends a fit that stops improving.
_AUTO_UPDATES = 1000
_AUTO_MIN_EPOCHS = 20
_AUTO_MAX_EPOCHS = 300
# The absence calibration after fit (_calibrate_absence): epochs over the training rows
# with one masked input switched off, and Adam's learning rate for its few weights.
_CALIBRATION_EPOCHS = 5
_CALIBRATION_LEARNING_RATE = 0.01


class _EarlyStoppingAfter(keras.callbacks.EarlyStopping):
    """Keras' ``EarlyStopping`` that ends no fit before ``min_epochs`` epochs.

    Unlike its ``start_from_epoch``, the epochs before ``min_epochs`` still count: the best
    of all epochs is restored, so a model that overfits from its third epoch keeps that
    epoch's weights, and one that leaves a loss plateau late gets the chance to.
    """

    def __init__(self, min_epochs: int, **kwargs):
        super().__init__(**kwargs)
        self.min_epochs = min_epochs

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        if self.model.stop_training and epoch + 1 < self.min_epochs:
            self.model.stop_training = False
            self.stopped_epoch = 0


# Callers whose fits are many and short (cross-validation, searches, the ensemble's and
# the importance's refits): ``verbose="auto"`` keeps them silent.
_QUIET_CALLERS = (
    "sklearn.model_selection._validation",
    "sklearn.model_selection._search",
    "skmultimodal.ensemble",
    "skmultimodal.inspection",
)


def shows_progress() -> bool:
    """``verbose="auto"``: a progress line for a fit run from a terminal or a notebook,
    not for one inside a cross-validation, a search or an ensemble (nor in a worker
    process, whose output is not a terminal)."""
    stream = sys.stderr
    interactive = getattr(stream, "isatty", lambda: False)() or "ipykernel" in sys.modules
    if not interactive:
        return False
    frame = sys._getframe(1)
    while frame is not None:
        if str(frame.f_globals.get("__name__", "")).startswith(_QUIET_CALLERS):
            return False
        frame = frame.f_back
    return True


class EpochProgress(keras.callbacks.Callback):
    """One line on standard error, rewritten after every epoch: the epoch, the elapsed
    time, the loss and accuracy (and their validation values); a final newline."""

    QUANTITIES = ("loss", "accuracy", "val_loss", "val_accuracy")

    def __init__(self, epochs: int, stream=None):
        super().__init__()
        self.epochs = epochs
        self.stream = stream
        self._start = None
        self._width = 0

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        parts = [f"epoch {epoch + 1}/{self.epochs}", f"{time.perf_counter() - self._start:.0f} s"]
        parts += [f"{name} {logs[name]:.4f}" for name in self.QUANTITIES if name in logs]
        line = " - ".join(parts)
        self._write("\r" + line.ljust(self._width))
        self._width = len(line)

    def on_train_end(self, logs=None):
        if self._width:
            self._write("\n")

    def _write(self, text: str) -> None:
        stream = self.stream or sys.stderr
        stream.write(text)
        stream.flush()


class _StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stop training at the first batch whose loss is NaN or infinite, and say where."""

    def __init__(self):
        super().__init__()
        self.diverged_at = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(float(loss)):
            self.diverged_at = (self._epoch + 1, batch + 1, float(loss))
            self.model.stop_training = True


#: Input values above this magnitude are named as a likely cause of a diverged fit.
_EXTREME = 1e4


def _extreme_inputs(X) -> list[str]:
    """``"input 'num', feature 2 (largest |value| 1.7e+18)"`` for inputs holding values
    above :data:`_EXTREME` or non-finite ones, largest first."""
    found = []
    arrays = X.items() if isinstance(X, Mapping) else [("input", X)]
    for name, array in arrays:
        if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiu":
            continue
        values = np.abs(array.reshape(len(array), -1).astype(np.float64))
        if not values.size:
            continue
        largest = np.where(np.isfinite(values), values, np.inf).max(axis=0)
        for feature in np.flatnonzero(largest > _EXTREME):
            found.append((largest[feature], f"input {name!r}, feature {feature}"))
    found.sort(key=lambda item: -item[0])
    return [f"{where} (largest |value| {value:.3g})" for value, where in found[:5]]


def _finite_predictions(prediction, X):
    """``prediction``, or a ValueError naming the rows whose outputs are NaN or infinite."""
    parts = prediction if isinstance(prediction, list) else [prediction]
    bad = np.zeros(len(parts[0]), dtype=bool)
    for part in parts:
        values = np.asarray(part)
        if values.dtype.kind == "f":
            bad |= ~np.isfinite(values.reshape(len(values), -1)).all(axis=1)
    if not bad.any():
        return prediction
    rows = np.flatnonzero(bad)
    subset = take_rows(X, rows) if not has_lazy_input(X) else None
    extreme = [] if subset is None else _extreme_inputs(subset)
    cause = (
        "Their inputs with the largest values: " + "; ".join(extreme) + "."
        if extreme
        else "The model's weights may hold NaN (a fit that diverged before this check existed)."
    )
    shown = ", ".join(map(str, rows[:10].tolist())) + (", ..." if len(rows) > 10 else "")
    raise ValueError(
        f"The model predicted NaN or infinite values for {len(rows)} of {len(bad)} rows "
        f"(rows {shown}); no prediction is returned. {cause}"
    )


def _divergence_error(X, diverged_at) -> ValueError:
    epoch, batch, loss = diverged_at
    extreme = _extreme_inputs(X)
    cause = (
        "The inputs with the largest values, the likely cause: " + "; ".join(extreme) + ". "
        "Scale or clip such columns (StandardScaler, a log), or drop them."
        if extreme
        else "No input holds extreme values: lower the learning rate "
        "(optimizer__learning_rate) or check the target for extreme values."
    )
    return ValueError(
        f"Training diverged: the loss became {loss} at epoch {epoch}, batch {batch}, so the "
        f"model would predict NaN. {cause}"
    )


class _Training:
    """Estimator methods that fit the Keras model and predict with it."""

    def _fit(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        self._validate_params_before_fit()
        seed = seed_from_random_state(self.random_state)
        # The target encoder's statistics are weighted; SciKeras fits it with y alone.
        self._fit_sample_weight = sample_weight
        try:
            with tensorflow_seed(seed):
                super()._fit(X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs)
        finally:
            del self._fit_sample_weight

    @contextmanager
    def _state_restored_on_error(self):
        """Undo a failed or interrupted fit, so a previously fitted estimator stays usable.

        A new fit builds a new ``model_``, so restoring the attribute dict is enough.
        With ``warm_start`` or ``partial_fit`` the existing model is trained in place:
        an interruption then keeps the weights of the last completed batch.
        """
        before = dict(vars(self))
        try:
            yield
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise

    def _require_y(self, y) -> None:
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        training = (X, y)
        for name in ("batch_size", "validation_batch_size"):
            if getattr(self, name, None) == -1 or getattr(self, f"fit__{name}", None) == -1:
                kwargs.setdefault(name, self._n_samples(X))
        if sample_weight is not None:
            # Normalise to mean 1 so the weighted loss is the mean over the "repeated"
            # data set: weights change which samples matter, not the learning rate.
            sample_weight = _mean_one(sample_weight)
        # SciKeras silently drops ``callbacks`` given to ``fit``; add them to this call.
        configured = self._fit_callbacks
        divergence = _StopOnNonFiniteLoss()
        self._fit_callbacks = [
            *configured,
            *(kwargs.pop("callbacks", None) or []),
            divergence,
        ]
        epochs = self._resolved_epochs(X, epochs, kwargs)
        self.epochs_ = epochs
        if self.verbose == "auto":
            kwargs["verbose"] = 0
            if shows_progress():
                self._fit_callbacks.append(EpochProgress(epochs))
        held_out = None
        if self._stops_early(X):
            given = kwargs.get("validation_data") is not None
            X, y, sample_weight = self._add_early_stopping(X, y, sample_weight, epochs, kwargs)
            held_out = None if given else kwargs.get("validation_data")
        if not (warm_start and getattr(self, "linear_start_", None)):
            self._fit_linear_start(X, y, sample_weight)
        if has_lazy_input(X):
            # ImageLoader(lazy=True): Keras gets a PyDataset that decodes batch by batch.
            fit_args = route_params(
                self.get_params(), destination="fit", pass_filter=self._fit_kwargs
            )
            X, overrides = lazy_fit_arguments(X, y, sample_weight, {**fit_args, **kwargs})
            kwargs.update(overrides)
            y = sample_weight = None
        _build_training_state(self.model_, X, y)
        try:
            with surfaced_decode_errors(X, kwargs.get("validation_data")):
                super()._fit_keras_model(
                    X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
                )
        finally:
            self._fit_callbacks = configured
        if divergence.diverged_at is not None:
            raise _divergence_error(training[0], divergence.diverged_at)
        if not warm_start:
            _release_training_steps(self.model_)
            self._calibrate_absence(*training)
            self._fit_blend(held_out)

    def _fit_linear_start(self, X, y, sample_weight) -> None:
        """Fit the model's ``LinearLogits`` (``sequence_linear``) on the training rows.

        ``linear_start_`` records the inputs it reads, the penalty chosen and the training
        rows; absent when the model has no linear start. ``penalty`` is None when nothing
        was fitted (the layer then adds zeros): ``sequence_linear="auto"`` with fewer than
        ``AUTO_MIN_ROWS`` training rows, or a single class among them.
        """
        started = [layer for layer in self.model_.layers if isinstance(layer, LinearLogits)]
        if not started:
            vars(self).pop("linear_start_", None)
            return
        layer = started[0]
        series = [X if not isinstance(X, Mapping) else X[name] for name in layer.sources]
        target = np.asarray(y)
        regression = not is_classifier(self)
        if not regression and target.ndim == 2 and target.shape[1] > 1:
            target = target.argmax(axis=1)  # one-hot labels
        rows = self._n_samples(X)
        fitted = None
        if self.sequence_linear != "auto" or rows >= AUTO_MIN_ROWS:
            fitted = fit_linear_start(
                summary_statistics(series),
                target,
                layer.units,
                regression,
                sample_weight,
                seed_from_random_state(self.random_state),
            )
        if fitted is not None:
            layer.set_linear_model(fitted.center, fitted.scale, fitted.kernel, fitted.bias)
        self.linear_start_ = {
            "inputs": list(layer.sources),
            "penalty": None if fitted is None else fitted.penalty,
            "rows": rows,
        }

    def _fit_blend(self, held_out) -> None:
        """Weight the network's logits against the ``blend_inputs`` on the held-out rows.

        ``blend_weights_`` gets one weight for ``"network"`` and one per blended input, and
        ``blend_rows_`` the number of rows they were fitted on: 0 when no rows were held
        out (no early stopping, or the caller's own ``validation_data`` /
        ``validation_split``), the network then predicting alone (weights 1 and 0).
        """
        blends = [layer for layer in self.model_.layers if isinstance(layer, BlendLogits)]
        names = list(getattr(self, "blend_inputs", None) or [])
        if not blends or not names:
            vars(self).pop("blend_weights_", None)
            vars(self).pop("blend_rows_", None)
            return
        weights = np.r_[1.0, np.zeros(len(names))]
        self.blend_rows_ = 0
        if held_out is not None:
            X_val, y_val = held_out[0], np.asarray(held_out[1])
            sample_weight = held_out[2] if len(held_out) > 2 else None
            # The usual predict path: its predict step is this model's own (no retracing).
            proba = np.asarray(self._predict_validated(X_val), np.float64)
            proba = np.clip(proba, 1e-7, 1 - 1e-7)
            sigmoid = proba.shape[1] == 1 or self.target_type_ == "multilabel-indicator"
            if sigmoid:
                logits, target = logit(proba), y_val
            else:
                logits = np.log(proba)
                target = y_val.argmax(axis=1) if y_val.ndim == 2 and y_val.shape[1] > 1 else y_val
                target = np.asarray(target).ravel()
            # As the model reads them: zero in the rows that lack their column.
            groups = getattr(self, "presence_groups_", {})
            masks = {name: key for key, group in groups.items() for name in group}
            scores = [
                np.asarray(X_val[name])
                * (np.asarray(X_val[masks[name]]).reshape(-1, 1) if name in masks else 1.0)
                for name in names
            ]
            weights = fit_blend_weights(logits, scores, target, sigmoid, sample_weight)
            self.blend_rows_ = len(y_val)
        blends[0].blend_weights.assign(weights.astype(np.float32))
        self.blend_weights_ = dict(zip(["network", *names], weights.tolist(), strict=True))

    def _calibrate_absence(self, X, y) -> None:
        """Fit the stand-ins of absent branches with the rest of the model frozen.

        A model whose training rows all have an input never learns what to do without it:
        its gate substitutes the branch's mean features and adds no offset. After the fit,
        the gate's learnt substitutes and the ``AbsenceLogits`` offsets (nothing else) are
        trained on copies of the training rows with one masked input switched off, the
        model in inference mode (frozen batch statistics, no dropout). Present rows do not
        use these weights, so their predictions are unchanged.
        """
        gates = [layer for layer in self.model_.layers if isinstance(layer, GateBranches)]
        masked = [
            masked_input_name(key)
            for key, kind in self.input_kinds_.items()
            if kind == PRESENCE_KIND
        ]
        if not gates or not masked or not isinstance(X, Mapping):
            return
        variables = [*gates[0].substitutes]
        variables += [
            weight
            for layer in self.model_.layers
            if isinstance(layer, AbsenceLogits)
            for weight in layer.trainable_weights
        ]
        # One copy of each row per masked input it has, that input switched off.
        pairs = [
            (row, key)
            for key in (presence_key(name) for name in masked)
            for row in np.flatnonzero(np.asarray(X[key])[:, 0] > 0.5)
        ]
        if not pairs:
            return
        rng = np.random.RandomState(seed_from_random_state(self.random_state) or 0)
        step = _calibration_step(
            self.model_, variables, keras.optimizers.Adam(learning_rate=_CALIBRATION_LEARNING_RATE)
        )
        # The fit's batch size (None and -1, the whole data set, become 32), at most 256.
        batch_size = self.batch_size if self.batch_size not in (None, -1) else 32
        batch_size = min(int(batch_size), 256)
        for _ in range(_CALIBRATION_EPOCHS):
            order = rng.permutation(len(pairs))
            for start in range(0, len(order), batch_size):
                chosen = [pairs[i] for i in order[start : start + batch_size]]
                rows = np.array([row for row, _ in chosen])
                batch = dict(load_inputs(take_rows(X, rows)))
                for position, (_, key) in enumerate(chosen):
                    batch[key] = np.array(batch[key], copy=True)
                    batch[key][position] = 0.0
                step(to_model_batch(batch), take_rows(y, rows))

    def _resolved_epochs(self, X, epochs, fit_kwargs: dict) -> int:
        """``epochs``, with ``"auto"`` turned into a number from the table's size.

        ``"auto"``: enough epochs for about 1,000 gradient updates over the rows that are
        trained on (less the early-stopping hold-out), at least 20 and at most 300.
        """
        if not isinstance(epochs, str):
            return int(epochs)
        n_samples = self._n_samples(X)
        split = fit_kwargs.get("validation_split", self.validation_split) or 0.0
        if fit_kwargs.get("validation_data") is None:
            if split:
                n_samples -= int(np.ceil(n_samples * split))
            elif self._stops_early(X):
                n_samples -= int(np.ceil(n_samples * _EARLY_STOPPING_FRACTION))
        batch_size = fit_kwargs.get("batch_size", getattr(self, "fit__batch_size", None))
        batch_size = batch_size or self.batch_size or 32
        if batch_size == -1:
            batch_size = n_samples
        steps = max(int(np.ceil(max(n_samples, 1) / batch_size)), 1)
        wanted = int(np.ceil(_AUTO_UPDATES / steps))
        return int(min(max(wanted, _AUTO_MIN_EPOCHS), _AUTO_MAX_EPOCHS))

    def _stops_early(self, X) -> bool:
        if isinstance(self.early_stopping, str):  # "auto"
            return self._n_samples(X) >= _EARLY_STOPPING_AUTO_MIN_SAMPLES
        return bool(self.early_stopping)

    def _min_epochs(self, epochs: int) -> int:
        """The number of epochs before which early stopping ends no fit."""
        if self.min_epochs == "auto":
            return int(epochs * _MIN_EPOCHS_FRACTION)
        return int(self.min_epochs)

    def _add_early_stopping(self, X, y, sample_weight, epochs: int, fit_kwargs: dict):
        """Add the early-stopping callback and, if none is set, hold out validation data.

        Keras' ``validation_split`` takes the last rows, which is wrong for data sorted by
        label; the default hold-out is a random, stratified 10% instead.
        """
        self._fit_callbacks.append(
            _EarlyStoppingAfter(
                self._min_epochs(epochs),
                monitor="val_loss",
                patience=self.patience,
                restore_best_weights=True,
            )
        )
        split = fit_kwargs.get("validation_split", self.validation_split)
        if split or fit_kwargs.get("validation_data") is not None:
            return X, y, sample_weight
        n_samples = self._n_samples(X)
        if n_samples < 2:
            raise ValueError(
                f"early_stopping=True needs at least 2 training samples, got {n_samples}."
            )
        indices = np.arange(n_samples)
        rng = np.random.RandomState(seed_from_random_state(self.random_state))
        try:
            train, held_out = train_test_split(
                indices,
                test_size=_EARLY_STOPPING_FRACTION,
                random_state=rng,
                # A multi-output target is a list of arrays: no single label to stratify on.
                stratify=y if is_classifier(self) and isinstance(y, np.ndarray) else None,
            )
        except ValueError:
            # Too few samples of some class to stratify: an unstratified split still works.
            train, held_out = train_test_split(
                indices, test_size=_EARLY_STOPPING_FRACTION, random_state=rng
            )
        train, held_out = np.sort(train), np.sort(held_out)

        validation = (take_rows(X, held_out), take_rows(y, held_out))
        if sample_weight is not None:
            validation += (take_rows(sample_weight, held_out),)
        fit_kwargs["validation_data"] = validation
        return take_rows(X, train), take_rows(y, train), take_rows(sample_weight, train)

    def _predict_raw(self, X, **kwargs):
        check_is_fitted(self, "model_")
        X, _ = self._validate_data(X=X, y=None)
        return _finite_predictions(self._predict_validated(X, **kwargs), X)

    def _predict_validated(self, X, **kwargs):
        predict_args = route_params(
            self.get_params(),
            destination="predict",
            pass_filter=self._predict_kwargs,
            strict=True,
        )
        predict_args.update(kwargs)
        if predict_args.get("verbose") == "auto":
            predict_args["verbose"] = 0
        batch_size = predict_args.get("batch_size") or 32
        if batch_size == -1:
            batch_size = self._n_samples(X)
        own_predict_function(self.model_)
        if not self._predict_callbacks:
            # ``Model.predict``'s set-up per call costs far more than the compiled predict
            # step it runs for a small batch (benchmarks/bench_predict.py): call that directly.
            return self._predict_in_batches(X, batch_size)
        predict_args = {
            key: value for key, value in predict_args.items() if not key.startswith("callbacks")
        }
        predict_args["batch_size"] = batch_size
        predict_args["callbacks"] = self._predict_callbacks
        X = lazy_predict_input(X, batch_size)
        with surfaced_decode_errors(X):
            return self.model_.predict(x=X, **predict_args)

    def _predict_in_batches(self, X, batch_size: int) -> np.ndarray:
        """``model_.predict_on_batch`` over consecutive batches (same numbers as predict).

        A short last batch is padded by repeating its last row, so that every batch has
        one shape and the predict step is traced once, not once per remainder size. A
        one-row call is padded to two rows: the float32 kernels compute a lone row by
        another path (a matrix-vector product) whose result differs in the last bit, while
        a row's output in any batch of two rows or more is the same whatever the other
        rows and its position, so ``predict(X[i:i+1])`` equals ``predict(X)[i]``
        (scikit-learn's order and subset invariance checks).
        """
        n_samples = self._n_samples(X)
        if n_samples == 1 and batch_size > 1:
            batch = to_model_batch(load_inputs(take_rows(X, np.zeros(2, dtype=np.intp))))
            return _as_arrays(self.model_.predict_on_batch(batch), 1)
        if n_samples <= batch_size:
            return _as_arrays(self.model_.predict_on_batch(to_model_batch(load_inputs(X))))
        outputs = []
        for start in range(0, n_samples, batch_size):
            rows = np.arange(start, min(start + batch_size, n_samples))
            padded = np.pad(rows, (0, batch_size - len(rows)), mode="edge")
            # load_inputs decodes the batch's lazily loaded images, if any.
            batch = to_model_batch(load_inputs(take_rows(X, padded)))
            outputs.append(_as_arrays(self.model_.predict_on_batch(batch), len(rows)))
        if isinstance(outputs[0], list):
            # A multi-head model: one list of arrays per batch, joined output by output.
            return [np.concatenate(parts) for parts in zip(*outputs, strict=True)]
        return np.concatenate(outputs)


class _PredictStep:
    """Keras' predict step of one model, as a callable object.

    TensorFlow's "triggered tf.function retracing" warning counts traces per Python code
    object, so every Keras model's predict function shares one count: each newly fitted
    model traces its predict step once (the batches are padded to one shape), and a
    cross-validation or a search, which fits a model and predicts one fold with it, looks
    like a function retraced at every call. An object without ``__code__`` is its own key:
    the count is per model, and a model whose predict step really retraces still warns.
    """

    def __init__(self, step):
        self.step = step

    def __call__(self, data):
        return self.step(data)


def own_predict_function(model) -> None:
    """Give ``model`` a compiled predict function whose retracing is counted per model."""
    import tensorflow as tf

    if model.run_eagerly:
        return
    model.make_predict_function()
    function = model.predict_function
    python_function = getattr(function, "python_function", None)
    if python_function is None or isinstance(python_function, _PredictStep):
        return
    model.predict_function = tf.function(_PredictStep(python_function), reduce_retracing=True)


def _calibration_step(model, variables, optimizer):
    """A compiled gradient step of the model's loss on ``variables`` only, in inference
    mode (the other weights, batch statistics and dropout untouched)."""
    import tensorflow as tf

    optimizer.build(variables)

    @tf.function(reduce_retracing=True)
    def step(batch, y):
        with tf.GradientTape() as tape:
            prediction = model(batch, training=False)
            loss = model.compute_loss(x=batch, y=y, y_pred=prediction, training=False)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))

    return step


def _build_training_state(model, x, y) -> None:
    """Create the optimizer's, the compiled loss' and metrics' variables before ``Model.fit``.

    With TensorFlow and no distribution strategy, Keras defers building them to the first
    trace of the train step. Variables created inside a ``tf.function`` make TensorFlow
    trace it a second time, which cost about 0.9 s of a 2.5 s fit of the benchmark's small
    model (benchmarks/bench_wrapper.py --by-cause), and as much again with
    ``metrics=["accuracy"]`` or several outputs (one loss tracker each). Keras' own
    ``compile_from_config`` builds the optimizer the same way. The optimizer's variables are
    zeros and a step counter; the loss and metrics are built by one inference-mode call on
    two rows, and their states reset. Neither draws a random number, so seeded fits give
    the same weights. For lazily loaded images the rows come from the first batch, decoded
    once more. If anything goes wrong there, Keras builds them in the trace, as before.
    """
    if not model.built:
        return
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not getattr(optimizer, "built", True):
        optimizer.build(model.trainable_variables)
    if getattr(model, "train_function", None) is not None:
        return  # a warm start or partial_fit: traced before, everything is built
    several_outputs = len(getattr(model, "outputs", None) or ()) > 1
    if not several_outputs and all(getattr(metric, "built", True) for metric in model.metrics):
        return
    try:
        if isinstance(x, keras.utils.PyDataset):
            # Lazily loaded images: the first batch, decoded once more.
            batch = x[0] if y is None and len(x) else ()
            x, y = (batch[0], batch[1]) if len(batch) > 1 else (None, None)
        if x is None or y is None:
            return
        x_rows = to_model_batch(take_rows(x, slice(0, 2)))
        if isinstance(x_rows, Mapping):  # Keras calls take all tensors or none
            x_rows = {key: _as_tensor(value) for key, value in x_rows.items()}
        y_rows = take_rows(list(y) if isinstance(y, tuple) else y, slice(0, 2))
        y_pred = model(x_rows, training=False)
        model.compute_loss(x=x_rows, y=y_rows, y_pred=y_pred, training=False)
        model.compute_metrics(x_rows, y_rows, y_pred, None)
    except Exception:  # noqa: BLE001 - an optimisation: the trace builds them, as before
        pass
    finally:
        model.reset_metrics()


def _as_tensor(value):
    """A NumPy array as a tensor; anything else (a ``SparseTensor``) as it is."""
    return keras.ops.convert_to_tensor(value) if isinstance(value, np.ndarray) else value


def _release_training_steps(model) -> None:
    """Drop the traced train and evaluation steps of a model whose fit is over.

    Keras keeps ``train_function`` and ``test_function`` (``tf.function`` graphs of the
    forward and backward pass, the optimizer update and the metrics, about a hundred
    functions registered in TensorFlow's runtime) on the model after ``fit``: about 40 MB
    for the README's small pipeline, per fitted estimator kept alive (a search's
    ``best_estimator_``, ``cross_validate(return_estimator=True)``, a list of models)
    (benchmarks/bench_hygiene.py). ``predict`` needs neither. A later ``partial_fit`` or
    ``warm_start`` fit traces the train step again, once, with the same weights and
    optimizer state, so it trains to the same numbers. ``partial_fit`` and ``warm_start``
    fits keep them, for the next call.
    """
    for name in ("train_function", "test_function"):
        if getattr(model, name, None) is not None:
            setattr(model, name, None)


def _as_arrays(prediction, n_rows: int | None = None):
    """A model's prediction as an array, or a list of arrays for a multi-output model."""
    if isinstance(prediction, (list, tuple)):
        return [np.asarray(part)[:n_rows] for part in prediction]
    return np.asarray(prediction)[:n_rows]
