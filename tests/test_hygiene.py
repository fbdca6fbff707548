"""Fold hygiene: what a finished fit keeps, and what a dropped estimator leaves behind.

A grid search fits and drops one estimator per split and candidate in one process; memory
stays flat only if a dropped estimator frees its Keras model and the traced TensorFlow
functions of that model, and a fitted estimator does not keep its training data alive
(benchmarks/bench_hygiene.py measures 30 fits)."""

import gc
import types
import weakref

import numpy as np
import pytest
from _settings import TINY, text_image_numbers

from skmultimodal.estimators import MultiInputKerasClassifier


def _runtime_functions():
    """The functions registered in TensorFlow's runtime (the traced graphs of live models)."""
    atomic = pytest.importorskip("tensorflow.python.eager.polymorphic_function.atomic_function")
    refs = getattr(atomic, "RUNTIME_FUNCTION_REFS", None)
    if refs is None:
        pytest.skip("this TensorFlow keeps no RUNTIME_FUNCTION_REFS")
    return len(refs)


def test_a_fitted_estimator_keeps_only_what_predict_needs_and_frees_it_when_dropped():
    X, y = text_image_numbers(40, 20, 5, 3)
    MultiInputKerasClassifier(**TINY).fit(X, y).predict(X)  # TensorFlow's one-off set-up
    gc.collect()
    before = _runtime_functions()
    clf = MultiInputKerasClassifier(**TINY, early_stopping=True).fit(X, y)
    expected = clf.predict_proba(X)
    # The traced train and evaluation steps (about a hundred functions, tens of MB for a
    # four-input model) are dropped after fit; the predict step stays.
    assert clf.model_.train_function is None and clf.model_.test_function is None
    assert clf.model_.predict_function is not None
    gc.collect()
    kept = _runtime_functions() - before
    assert 0 < kept < 10, kept  # 3 measured (the predict step); the others add dozens
    # partial_fit traces the train step again and keeps it for its next call.
    clf.partial_fit(X, y)
    assert clf.model_.train_function is not None
    assert not np.array_equal(clf.predict_proba(X), expected)  # it did train
    # A dropped estimator (a search's finished split) frees its model and its functions.
    model = weakref.ref(clf.model_)
    del clf
    gc.collect()
    assert model() is None, gc.get_referrers(model())
    assert _runtime_functions() == before


def _reachable(root, limit=500_000):
    """Objects reachable from ``root``, not descending into modules, classes or functions
    (their globals reach the whole program)."""
    seen, stack = {}, [root]
    skipped = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType)
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, skipped):
            continue
        seen[id(obj)] = obj
        stack.extend(gc.get_referents(obj))
    return seen.values()


def test_a_fitted_estimator_keeps_no_training_data():
    # early_stopping=True: the training rows are split into a training and a validation set.
    X, y = text_image_numbers(60, 20, 5, 3)
    clf = MultiInputKerasClassifier(**{**TINY, "early_stopping": True}).fit(X, y)
    held = []
    for obj in _reachable(clf):
        name = type(obj).__name__
        if "EpochIterator" in name or "DataAdapter" in name or name.endswith("Dataset"):
            held.append(name)
        elif isinstance(obj, np.ndarray) and obj.ndim and obj.shape[0] in (6, 54, 60):
            held.append(f"ndarray {obj.shape}")
        elif any(obj is array for array in (*X.values(), y)):
            held.append("an array given to fit")
    assert not held, held


@pytest.mark.parametrize(
    "metrics, outputs, sparse_input",
    [(None, 1, False), (["accuracy"], 1, False), (None, 2, False), (["accuracy"], 1, True)],
    ids=["plain", "metrics", "two-outputs", "metrics-sparse-input"],
)
def test_fit_traces_the_train_step_once_and_trains_the_same_weights(
    monkeypatch, metrics, outputs, sparse_input
):
    import keras
    from scipy import sparse

    from skmultimodal import _training

    X, y = text_image_numbers(40, 20, 5, 3)
    if outputs == 2:  # two label columns: two heads, and a loss tracker for each
        y = np.stack([y, np.arange(len(y)) % 3], axis=1)
    if sparse_input:  # a SparseTensor beside dense arrays in the rows that build the metrics
        X = {**X, "counts": sparse.random(len(y), 30, density=0.1, format="csr", random_state=0)}
    traces = []
    train_step = keras.Model.train_step

    def counted(model, data):
        traces.append(1)  # runs once per trace of the train step, not once per batch
        return train_step(model, data)

    monkeypatch.setattr(keras.Model, "train_step", counted)
    params = dict(TINY, epochs=2, metrics=metrics, random_state=0)
    built_first = MultiInputKerasClassifier(**params).fit(X, y)
    # Keras creates the optimizer's (and compiled metrics' and loss trackers') variables
    # during the first trace unless they exist, and TensorFlow then traces it again.
    assert len(traces) == 1
    monkeypatch.setattr(_training, "_build_training_state", lambda model, x, y: None)
    traces.clear()
    deferred = MultiInputKerasClassifier(**params).fit(X, y)
    assert len(traces) == 2  # what building the state first saves
    # Building the state first draws no random number: the same seeded weights.
    ours, theirs = built_first.predict_proba(X), deferred.predict_proba(X)
    ours, theirs = (ours, theirs) if isinstance(ours, list) else ([ours], [theirs])
    for one, other in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(one, other)
    assert built_first.history_ == deferred.history_


def test_a_lazy_fit_with_metrics_traces_the_train_step_once(monkeypatch, tmp_path):
    import keras
    from PIL import Image

    from skmultimodal import _training
    from skmultimodal.image import ImageLoader

    rng = np.random.default_rng(0)
    paths = []
    for i in range(40):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(paths[-1])
    X = {
        "image": ImageLoader((8, 8), lazy=True).fit(paths).transform(paths),
        "numbers": rng.normal(size=(40, 3)).astype("float32"),
    }
    y = np.arange(40) % 2
    traces = []
    train_step = keras.Model.train_step
    monkeypatch.setattr(
        keras.Model, "train_step", lambda model, data: traces.append(1) or train_step(model, data)
    )
    params = dict(TINY, batch_size=16, metrics=["accuracy"])
    lazy_first = MultiInputKerasClassifier(**params).fit(X, y)
    assert len(traces) == 1  # the metrics were built on the first batch, decoded once more
    monkeypatch.setattr(_training, "_build_training_state", lambda model, x, y: None)
    deferred = MultiInputKerasClassifier(**params).fit(X, y)
    assert len(traces) == 3
    assert lazy_first.history_ == deferred.history_
