"""MultiInputKerasClassifier / MultiInputKerasRegressor: sklearn contract, dict input, seeding."""

import os
import pickle
import random
import subprocess
import sys
import threading
import time

import keras
import numpy as np
import pytest
from _settings import TINY, flat_sigmoid_model
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmultimodal.estimators import MultiInputKerasClassifier, MultiInputKerasRegressor
from skmultimodal.lazy import take_rows

SAMPLE_WEIGHT_REASON = (
    "float32 training: weighted and repeated fits agree to ~1e-7 relative (a few ulps), "
    "the check demands rtol=1e-7; test_sample_weight_matches_repeated_samples checks 1e-5"
)


# The check walks vars() of every class in the MRO; SciKeras 0.13.0's own BaseWrapper
# defines _more_tags without __sklearn_tags__, and skmultimodal does not patch other
# libraries' classes (tests/test_scikeras_adapter.py). Our classes define __sklearn_tags__
# themselves (test_tags_come_from_our_own_classes).
TAGS_RENAMED_REASON = (
    "SciKeras 0.13.0's BaseWrapper (a base class we do not own) defines _more_tags "
    "without __sklearn_tags__"
)


# On some CPUs (this project's 2-core AVX2 machines since 2026-12-06, at cffddb0 too) the
# matrix-product kernels give a row's float32 output one unit in the last place apart
# (1.2e-7 relative) depending on the other rows of the batch; the check demands rtol=1e-7.
# test_predictions_do_not_depend_on_the_other_rows checks the same invariance at 1e-6.
ORDER_INVARIANCE_REASON = (
    "float32 matrix-product kernels: a row's output moves by one ulp (1.2e-7 relative) with "
    "the other rows of its batch on some CPUs; the check demands rtol=1e-7"
)


def _expected_failures(estimator):
    return {
        "check_sample_weight_equivalence_on_dense_data": SAMPLE_WEIGHT_REASON,
        "check_estimator_tags_renamed": TAGS_RENAMED_REASON,
        "check_methods_sample_order_invariance": ORDER_INVARIANCE_REASON,
    }


# With routed constructor parameters, as the user guide advises for the learning rate.
# epochs=10 (the default before epochs="auto"): the checks fit dozens of tables of 20-60
# rows, where "auto" would run 300 epochs each; tests/test_sequence_summary.py covers
# "auto" itself.
@parametrize_with_checks(
    [
        MultiInputKerasClassifier(optimizer__learning_rate=0.01, epochs=10),
        MultiInputKerasRegressor(optimizer__learning_rate=0.01, epochs=10),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# TINY with the recurrent branch of the series input, and three epochs.
MODEL = {**TINY, "sequence_units": 4, "epochs": 3}


def make_dict(n=48, seed=0):
    rng = np.random.RandomState(seed)
    X = {
        "image": rng.randint(0, 256, size=(n, 8, 8, 1)).astype(np.uint8),
        "text": rng.randint(0, 30, size=(n, 5)).astype(np.int32),
        "series": rng.normal(size=(n, 4, 2)).astype(np.float32),
        "meta": rng.normal(size=(n, 3)).astype(np.float32),
    }
    y = (X["meta"][:, 0] + X["series"][:, -1, 0] > 0).astype(int)
    return X, y


def make_tabular(n=24, seed=0):
    """make_dict's rows and labels with only the tabular input: for the tests of what does
    not depend on the branches (seeding, weights, targets), a model that fits in a fraction
    of the time of the four-branch one."""
    X, y = make_dict(n, seed)
    return {"meta": X["meta"]}, y


@pytest.fixture(scope="module")
def fitted():
    X, y = make_dict()
    return MultiInputKerasClassifier(**MODEL).fit(X, y), X, y


def test_is_classifier_and_regressor_so_cv_is_stratified():
    assert is_classifier(MultiInputKerasClassifier())
    assert is_regressor(MultiInputKerasRegressor())
    cv = check_cv(3, np.array([0, 1] * 5), classifier=is_classifier(MultiInputKerasClassifier()))
    assert isinstance(cv, StratifiedKFold)


def test_kinds_and_metadata_recorded(fitted):
    clf, X, _ = fitted
    assert clf.input_names_ == ["image", "text", "series", "meta"]
    assert clf.input_kinds_ == {
        "image": "image",
        "text": "tokens",
        "series": "sequence",
        "meta": "tabular",
    }
    assert clf.input_shapes_["image"] == (8, 8, 1)
    assert clf.vocabulary_sizes_ == {"text": int(X["text"].max()) + 1}
    assert sorted(t.name for t in clf.model_.inputs) == ["image", "meta", "series", "text"]
    # Images stay uint8 up to the model, token ids int32.
    assert clf.model_.get_layer("image").output.dtype == "uint8"
    assert clf.model_.get_layer("text").output.dtype == "int32"


def test_predict_proba_shapes_and_consistency(fitted):
    clf, X, y = fitted
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    one = clf.predict_proba({k: v[:1] for k, v in X.items()})
    assert one.shape == (1, 2)
    np.testing.assert_allclose(one, proba[:1], rtol=1e-5)


def test_single_batch_fast_path_equals_keras_predict(fitted):
    clf, X, _ = fitted
    # The same batch shape as the fast path (one batch of all rows): the same kernels.
    expected = clf.model_.predict(X, batch_size=len(X["text"]), verbose=0)
    np.testing.assert_array_equal(clf.predict_proba(X)[:, 1:], expected)


def test_predict_in_padded_batches_matches_keras_predict(fitted):
    clf, X, _ = fitted
    batched = pickle.loads(pickle.dumps(clf)).set_params(predict__batch_size=10)
    expected = batched.model_.predict(X, batch_size=10, verbose=0)
    proba = batched.predict_proba(X)  # 48 rows: 4 batches of 10 and one of 8 padded to 10
    assert proba.shape == (48, 2)
    np.testing.assert_allclose(proba[:, 1:], expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("estimator_class", [MultiInputKerasClassifier, MultiInputKerasRegressor])
def test_predictions_do_not_depend_on_the_other_rows(estimator_class):
    # What scikit-learn's order and subset invariance checks ask, on a four-input model, at
    # a few float32 ulps (rtol 1e-6; see ORDER_INVARIANCE_REASON): a row's output does not
    # depend on the other rows of the call, its position among them, or the batch it falls
    # in (one-row calls are padded to two rows).
    X, y = make_dict(n=40, seed=3)
    estimator = estimator_class(**{**MODEL, "batch_size": 16}).fit(X, y)
    predict = getattr(estimator, "predict_proba", estimator.predict)
    full = predict(X)
    rng = np.random.RandomState(0)
    for _ in range(5):
        idx = rng.permutation(40)
        np.testing.assert_allclose(predict(take_rows(X, idx)), full[idx], rtol=1e-6, atol=1e-9)
    one_by_one = np.concatenate([predict(take_rows(X, [i])) for i in range(40)])
    np.testing.assert_allclose(one_by_one, full, rtol=1e-6, atol=1e-9)


def test_pickle_round_trip_gives_identical_probabilities(fitted):
    clf, X, _ = fitted
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_same_random_state_same_probabilities(fitted):
    clf, X, y = fitted
    again = clone(clf).fit(X, y)
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), rtol=0, atol=1e-6)


def test_seeded_fit_restores_global_state_and_unseeded_fit_works():
    from tensorflow.python.framework import config

    X, y = make_tabular(24)
    random.seed(123)
    np.random.seed(123)  # noqa: NPY002 (checking that fit leaves global state alone)
    py_before, np_before = random.random(), np.random.rand()  # noqa: NPY002
    random.seed(123)
    np.random.seed(123)  # noqa: NPY002
    MultiInputKerasClassifier(**MODEL).fit(X, y)
    assert random.random() == py_before
    assert np.random.rand() == np_before  # noqa: NPY002
    assert not config.is_op_determinism_enabled()
    from keras.src.backend.common import global_state

    assert global_state.get_global_attribute("global_random_seed") is None
    unseeded = MultiInputKerasClassifier(**{**MODEL, "random_state": None}).fit(X, y)
    assert unseeded.predict_proba(X).shape == (24, 2)


def test_seeded_fit_ignores_other_threads_drawing_from_global_random(fitted):
    # A Dask worker's event loop calls random.sample while a task fits; Keras draws its
    # default layer and initialiser seeds from the same global generator. The fixture is
    # the undisturbed fit (four branches, with dropout).
    clf, X, y = fitted
    assert clf.dropout > 0
    alone = clf.predict_proba(X)
    stop = threading.Event()

    def draw():
        while not stop.is_set():
            random.random()
            time.sleep(0)

    thread = threading.Thread(target=draw)
    thread.start()
    try:
        disturbed = clone(clf).fit(X, y).predict_proba(X)
    finally:
        stop.set()
        thread.join()
    np.testing.assert_allclose(disturbed, alone, rtol=0, atol=1e-6)


def test_two_unseeded_fits_differ():
    X, y = make_tabular()
    params = {**MODEL, "random_state": None}
    a = MultiInputKerasClassifier(**params).fit(X, y).predict_proba(X)
    b = MultiInputKerasClassifier(**params).fit(X, y).predict_proba(X)
    assert not np.allclose(a, b)


_CROSS_PROCESS = """
import numpy as np, sys
sys.path.insert(0, {tests!r})
from test_estimators import MODEL, make_tabular
from skmultimodal.estimators import MultiInputKerasClassifier
X, y = make_tabular()
np.save({out!r}, MultiInputKerasClassifier(**MODEL).fit(X, y).predict_proba(X))
"""


def test_same_random_state_same_probabilities_across_processes(tmp_path):
    # Seeding does not depend on the branches (test_same_random_state_same_probabilities
    # covers the four-branch model in one process): the tabular model keeps the fresh
    # process's own fit short.
    X, y = make_tabular()
    clf = MultiInputKerasClassifier(**MODEL).fit(X, y)
    out = tmp_path / "proba.npy"
    code = _CROSS_PROCESS.format(tests=os.path.dirname(__file__), out=str(out))
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=300)
    np.testing.assert_allclose(np.load(out), clf.predict_proba(X), rtol=0, atol=1e-6)


def test_random_state_instance_is_used_not_collapsed_to_zero():
    X, y = make_tabular()
    a = MultiInputKerasClassifier(**{**MODEL, "random_state": np.random.RandomState(1)})
    b = MultiInputKerasClassifier(**{**MODEL, "random_state": np.random.RandomState(2)})
    pa = a.fit(X, y).predict_proba(X)
    pb = b.fit(X, y).predict_proba(X)
    assert not np.allclose(pa, pb)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda X: {k: v for k, v in X.items() if k != "text"}, r"missing \['text'\]"),
        (lambda X: {**X, "extra": X["meta"]}, r"unexpected \['extra'\]"),
        (lambda X: {**X, "meta": X["meta"][:, :2]}, r"'meta' has per-sample shape \(2,\).*\(3,\)"),
        (lambda X: {**X, "meta": X["meta"][:5]}, "same number of samples"),
        (lambda X: {k: v[:0] for k, v in X.items()}, "0 samples"),
        (lambda X: {}, "empty dict"),
        (lambda X: {**X, "text": X["text"] + 1000}, r"'text' holds token ids in"),
        (lambda X: X["meta"], "fitted on a dict"),
    ],
)
def test_dict_errors_name_the_key(fitted, change, message):
    clf, X, _ = fitted
    with pytest.raises(ValueError, match=message):
        clf.predict(change(X))


def test_nan_and_strings_in_dict_are_refused(fitted):
    clf, X, y = fitted
    bad = {**X, "meta": X["meta"].copy()}
    bad["meta"][7, 1] = np.inf
    with pytest.raises(ValueError, match=r"'meta' contains NaN or infinity \(first at row 7\)"):
        clf.predict(bad)
    with pytest.raises(TypeError, match="'text' has dtype <U"):
        clone(clf).fit({**X, "text": np.array([["a"]] * len(y))}, y)


def test_fit_errors_for_bad_targets():
    X, y = make_dict(24)
    clf = MultiInputKerasClassifier(**MODEL)
    with pytest.raises(ValueError, match="only one class"):
        clf.fit(X, np.zeros(24))
    y_nan = y.astype(float)
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="missing value.*row 3"):
        clf.fit(X, y_nan)
    with pytest.raises(ValueError, match="X has 24 samples but y has 23"):
        clf.fit(X, y[:-1])


def test_score_refuses_labels_unseen_in_fit(fitted):
    clf, X, y = fitted
    with pytest.raises(ValueError, match=r"label\(s\) \[7\] that were not seen in fit"):
        clf.score(X, np.where(np.arange(len(y)) == 0, 7, y))


def test_multiclass_string_labels():
    X, _ = make_tabular(30)
    y = np.array(["cat", "dog", "eel"] * 10)
    clf = MultiInputKerasClassifier(**MODEL).fit(X, y)
    assert clf.model_.output.shape == (None, 3)
    assert clf.predict_proba(X).shape == (30, 3)
    assert set(clf.predict(X)) <= {"cat", "dog", "eel"}


def test_regressor_multi_output_float64():
    X, _ = make_tabular(30)
    y = np.c_[X["meta"][:, 0], X["meta"][:, 1]]
    reg = MultiInputKerasRegressor(**MODEL).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == (30, 2) and pred.dtype == np.float64


def test_failed_fit_keeps_previous_model(fitted):
    clf, X, y = fitted
    model = clf.model_
    before = clf.predict_proba(X)

    class Interrupt(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y, callbacks=[Interrupt()])
    assert clf.model_ is model
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_user_model_receives_meta():
    X, y = make_dict(24)
    seen = {}

    def build(meta):
        seen.update(meta)
        return flat_sigmoid_model(meta)

    clf = MultiInputKerasClassifier(model=build, epochs=1, random_state=0).fit(X, y)
    assert seen["input_kinds_"]["text"] == "tokens"
    assert seen["input_shapes_"]["series"] == (4, 2)
    assert seen["vocabulary_sizes_"] == {"text": int(X["text"].max()) + 1}
    assert "model_" not in seen
    clf.fit(X, y)
    assert "model_" not in seen and "history_" not in seen


def test_class_weight_leaves_caller_weights_alone_and_accepts_ints():
    X, y = make_tabular()
    weights = np.ones(24, dtype=int)
    clf = MultiInputKerasClassifier(**MODEL, class_weight="balanced")
    clf.fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(weights, np.ones(24, dtype=int))


def test_sample_weight_through_pipeline_matches_repeated_samples():
    # One full batch per epoch, so weighting and repeating differ only by float32
    # rounding; 1e-5 is a few hundred ulps of the probabilities.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    w = rng.randint(0, 4, size=20)
    w[:2] = [0, 3]
    params = dict(tabular_units=4, epochs=5, batch_size=-1, random_state=0)
    weighted = Pipeline(
        [("prep", FunctionTransformer()), ("clf", MultiInputKerasClassifier(**params))]
    ).fit(X, y, clf__sample_weight=w)
    repeated = MultiInputKerasClassifier(**params).fit(X.repeat(w, axis=0), y.repeat(w))
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=0, atol=1e-5
    )


def test_class_weight_equals_matching_sample_weight():
    X, y = make_tabular()
    class_weighted = MultiInputKerasClassifier(**MODEL, class_weight={0: 1.0, 1: 3.0}).fit(X, y)
    sample_weighted = MultiInputKerasClassifier(**MODEL).fit(
        X, y, sample_weight=np.where(y == 1, 3.0, 1.0)
    )
    np.testing.assert_allclose(
        class_weighted.predict_proba(X), sample_weighted.predict_proba(X), rtol=0, atol=1e-6
    )


@pytest.mark.parametrize(
    "params, error, message",
    [
        (dict(batch_size=-5), ValueError, r"'batch_size' parameter .* range \[1, inf\).*Got -5"),
        (dict(batch_size=0), ValueError, r"'batch_size' parameter .*Got 0 instead"),
        (dict(fit__batch_size=0), ValueError, r"'fit__batch_size' parameter .*Got 0 instead"),
        (dict(epochs=2.5), ValueError, "epochs must be a positive integer"),
        (dict(verbose=-1), ValueError, r"'verbose' parameter"),
        (dict(class_weight="balance"), ValueError, r"'class_weight' parameter .*'balance'"),
        (dict(epoch=3), ValueError, r"keyword argument 'epoch', which is not a .*'epochs'\?"),
        (
            dict(optimiser__learning_rate=0.01),
            ValueError,
            r"'optimiser__learning_rate', which routes to unknown destination 'optimiser'\. "
            r"Did you mean 'optimizer__learning_rate'\?",
        ),
        (dict(optimizer__learning_rate=np.nan), ValueError, "learning_rate must be a finite.*nan"),
        (dict(optimizer__learning_rate=-0.1), ValueError, r"learning_rate must be .*> 0.*-0\.1"),
        (dict(optimizer__lr=np.inf), ValueError, r"optimizer__lr must be a finite number > 0"),
        (dict(optimizer__momentum=np.nan), ValueError, "optimizer__momentum is NaN"),
    ],
)
def test_bad_parameters_are_refused_in_fit_before_tensorflow(params, error, message, monkeypatch):
    X, y = make_dict(16)
    clf = MultiInputKerasClassifier(**{**MODEL, **params})
    assert clone(clf).get_params()  # nothing is checked in __init__, clone or get_params

    def no_model(*args, **kwargs):
        raise AssertionError("the model was built before the parameters were checked")

    monkeypatch.setattr(MultiInputKerasClassifier, "_build_keras_model", no_model)
    with pytest.raises(error, match=message):
        clf.fit(X, y)
    with pytest.raises(error, match=message):
        clf.partial_fit(X, y)


def test_set_params_is_checked_at_the_next_fit_even_with_warm_start():
    X, y = make_dict(16)
    reg = MultiInputKerasRegressor(**{**MODEL, "epochs": 1, "warm_start": True})
    reg.fit(X, y.astype(float))
    reg.set_params(batch_size=0)
    with pytest.raises(ValueError, match=r"'batch_size' parameter of MultiInputKerasRegressor"):
        reg.fit(X, y.astype(float))


def test_routed_and_passed_on_parameters_are_accepted():
    X, y = make_dict(16)
    clf = MultiInputKerasClassifier(
        **{**MODEL, "epochs": 1, "batch_size": -1},
        optimizer__learning_rate=0.01,
        fit__shuffle=False,
        predict__batch_size=-1,
        validation_freq=1,
    )
    assert clf.fit(X, y).predict_proba(X).shape == (16, 2)


def test_keyword_argument_taken_by_the_model_callable_is_accepted():
    def build(meta, hidden):
        return flat_sigmoid_model(meta, hidden)

    X, y = make_dict(16)
    clf = MultiInputKerasClassifier(model=build, hidden=3, epochs=1, random_state=0).fit(X, y)
    assert any(getattr(layer, "units", None) == 3 for layer in clf.model_.layers)
    with pytest.raises(
        ValueError, match=r"'hiden', which is not a parameter\. Did you mean 'hidden'"
    ):
        MultiInputKerasClassifier(model=build, hidden=3, hiden=4, epochs=1).fit(X, y)
