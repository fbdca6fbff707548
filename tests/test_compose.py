"""Tests for skmultimodal.compose: column routing, dict output, nesting, errors, sklearn checks."""

import pickle
import threading

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_backend
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.compose import make_column_selector
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmultimodal.compose import MultiInputTransformer, make_multi_input_transformer

SERIES = ["t0", "t1", "t2"]


def _table() -> pd.DataFrame:
    """Eight rows: a text, a category, three time steps and an integer year."""
    return pd.DataFrame(
        {
            "review": [
                "good phone great screen",
                "bad battery slow phone",
                "great battery good screen",
                "bad screen",
                "great phone fast charger",
                "slow charger bad cable",
                "good cable fast phone",
                "bad phone bad battery",
            ],
            "brand": ["a", "b", "a", "c", "b", "a", "c", "b"],
            "t0": [0.1, 0.4, 0.3, 0.9, 0.5, 0.2, 0.8, 0.7],
            "t1": [1.5, 1.1, 1.3, 1.2, 1.9, 1.4, 1.0, 1.6],
            "t2": [2.0, 2.5, 2.1, 2.9, 2.2, 2.7, 2.4, 2.6],
            "year": np.array([2019, 2020, 2021, 2019, 2020, 2021, 2019, 2020], dtype=np.int64),
        }
    )


Y = np.array([1, 0, 1, 0, 1, 0, 1, 0])


def _to_timesteps(X):
    """Stand-in for TimeStepReshaper: (n, f) -> (n, 1, f)."""
    return np.asarray(X).reshape(len(X), 1, -1)


def _astype(X, dtype):
    return np.asarray(X).astype(dtype)


def _first_two_rows(X):
    return np.asarray(X)[:2]


class _Recorder(TransformerMixin, BaseEstimator):
    """Remembers what fit received and returns its input as an array."""

    def fit(self, X, y=None):
        self.input_type_ = type(X).__name__
        self.input_columns_ = list(X.columns) if hasattr(X, "columns") else getattr(X, "name", None)
        self.y_ = y
        return self

    def transform(self, X):
        return np.asarray(X)


def _dense(value):
    return value.toarray() if sparse.issparse(value) else value


def assert_array_equal(actual, expected, *args, **kwargs):
    """numpy's, with sparse outputs compared as the dense arrays they stand for."""
    np.testing.assert_array_equal(_dense(actual), _dense(expected), *args, **kwargs)


class _ConcatenatingClassifier(ClassifierMixin, BaseEstimator):
    """Test double for a multi-input Keras model: flattens and concatenates the dict entries."""

    def fit(self, X, y):
        self.model_ = LogisticRegression().fit(_concatenate(X), y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(_concatenate(X))


def _concatenate(inputs):
    dense = [np.asarray(_dense(v), dtype=float) for v in inputs.values()]
    return np.hstack([v.reshape(len(v), -1) for v in dense])


def _full_transformer(n_jobs=None):
    return MultiInputTransformer(
        [
            ("text", CountVectorizer(), "review"),
            ("meta", OneHotEncoder(), ["brand"]),
            (
                "series",
                Pipeline(
                    [("scale", StandardScaler()), ("reshape", FunctionTransformer(_to_timesteps))]
                ),
                SERIES,
            ),
            ("year", "passthrough", ["year"]),
        ],
        n_jobs=n_jobs,
    )


@pytest.fixture(scope="module")
def fitted():
    """A fitted transformer over every kind of step, shared by read-only tests."""
    return _full_transformer().fit(_table(), Y)


# --- column selection ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "columns, expected, one_d",
    [
        ("t1", ["t1"], True),
        (["t2", "t0"], ["t2", "t0"], False),
        (3, ["t1"], True),
        (-2, ["t2"], True),
        ([4, 2], ["t2", "t0"], False),
        (np.array([2, 3]), ["t0", "t1"], False),
        (slice(2, 4), ["t0", "t1"], False),
        (slice("t0", "t2"), ["t0", "t1", "t2"], False),
        ([False, False, True, False, True, False], ["t0", "t2"], False),
        (np.array([False, False, False, True, False, False]), ["t1"], False),
        (lambda X: [c for c in X.columns if c.startswith("t")], SERIES, False),
        (make_column_selector(dtype_include="float64"), SERIES, False),
    ],
    ids=[
        "name",
        "names",
        "int",
        "negative-int",
        "ints",
        "int-array",
        "slice",
        "label-slice",
        "bool-list",
        "bool-array",
        "callable",
        "column-selector",
    ],
)
def test_column_selection(columns, expected, one_d):
    X = _table()
    prep = MultiInputTransformer([("seen", _Recorder(), columns), ("raw", "passthrough", columns)])
    out = prep.fit_transform(X)

    values = X[expected].to_numpy(dtype=np.float32)
    if one_d:
        values = values[:, 0]
    assert_array_equal(out["raw"], values)
    assert out["raw"].dtype == np.float32
    recorder = prep.named_transformers_["seen"]
    if one_d:
        assert (recorder.input_type_, recorder.input_columns_) == ("Series", expected[0])
    else:
        assert (recorder.input_type_, recorder.input_columns_) == ("DataFrame", expected)


def test_callable_columns_are_resolved_in_transformers_():
    prep = MultiInputTransformer([("num", "passthrough", lambda X: ["t0", "t1"])])
    prep.fit(_table())
    assert prep.transformers_ == [("num", "passthrough", ["t0", "t1"])]


def test_array_input_selects_by_position():
    X = _table()[SERIES].to_numpy()
    prep = MultiInputTransformer(
        [("last", "passthrough", -1), ("mask", "passthrough", [True, False, True])]
    )
    out = prep.fit_transform(X)
    assert_array_equal(out["last"], X[:, 2].astype(np.float32))
    assert_array_equal(out["mask"], X[:, [0, 2]].astype(np.float32))
    assert prep.n_features_in_ == 3
    assert not hasattr(prep, "feature_names_in_")


def test_drop_step_has_no_output_and_its_columns_may_be_missing_later():
    X = _table()
    prep = MultiInputTransformer(
        [("text", "drop", "review"), ("series", "passthrough", SERIES)]
    ).fit(X)
    assert list(prep.transform(X)) == ["series"]
    assert prep.named_transformers_["text"] == "drop"
    assert prep.transformers_[0] == ("text", "drop", "review")
    assert list(prep.transform(X.drop(columns="review"))) == ["series"]


def test_passthrough_keeps_integers_and_strings():
    X = _table()
    out = MultiInputTransformer(
        [("year", "passthrough", ["year"]), ("review", "passthrough", "review")]
    ).fit_transform(X)
    assert out["year"].dtype == np.int64
    assert_array_equal(out["year"][:, 0], X["year"].to_numpy())
    assert out["review"].shape == (8,)
    assert out["review"][3] == "bad screen"


# --- outputs ------------------------------------------------------------------------------


def test_pipeline_step_reshapes_to_time_steps(fitted):
    X = _table()
    expected = StandardScaler().fit_transform(X[SERIES]).reshape(8, 1, 3).astype(np.float32)
    out = fitted.transform(X)
    assert_array_equal(out["series"], expected)
    assert fitted.output_shapes_["series"] == (1, 3)


def test_sparse_one_hot_output_stays_sparse_float32(fitted):
    meta = fitted.transform(_table())["meta"]
    assert sparse.issparse(meta) and meta.format == "csr"
    assert meta.dtype == np.float32
    # brands a, b, a, c, ... in the categories order a, b, c
    assert_array_equal(meta[:4], [[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]])


def test_sparse_count_output_keeps_its_counts_as_float32(fitted):
    # A sparse output is a tabular model input (read by a Dense layer), never token ids.
    text = fitted.transform(_table())["text"]
    vocabulary = fitted.named_transformers_["text"].vocabulary_
    assert sparse.issparse(text) and text.dtype == np.float32
    assert text[7, vocabulary["bad"]] == 2
    assert text[7, vocabulary["phone"]] == 1


def test_dataframe_output_of_a_step_becomes_an_array():
    X = _table()
    prep = MultiInputTransformer([("num", StandardScaler().set_output(transform="pandas"), SERIES)])
    out = prep.fit_transform(X)["num"]
    assert isinstance(out, np.ndarray)
    assert_array_equal(out, StandardScaler().fit_transform(X[SERIES]).astype(np.float32))


def test_output_order_is_the_given_order():
    steps = [("z", "passthrough", ["t0"]), ("a", "passthrough", ["t1"]), ("m", "drop", ["t2"])]
    steps += [("b", StandardScaler(), ["t2"])]
    out = MultiInputTransformer(steps).fit_transform(_table())
    assert list(out) == ["z", "a", "b"]


@pytest.mark.parametrize(
    "dtype, expected",
    [
        ("float64", np.float32),
        ("float32", np.float32),
        ("float16", np.float16),
        ("int32", np.int32),
        ("uint8", np.uint8),
        ("bool", np.bool_),
    ],
)
def test_output_dtype_rule(dtype, expected):
    step = FunctionTransformer(_astype, kw_args={"dtype": dtype})
    prep = MultiInputTransformer([("x", step, SERIES)])
    assert prep.fit_transform(_table())["x"].dtype == expected
    assert prep.output_dtypes_ == {"x": np.dtype(expected)}


def test_output_shapes_and_dtypes(fitted):
    n_words = len(fitted.named_transformers_["text"].vocabulary_)
    assert fitted.output_shapes_ == {
        "text": (n_words,),
        "meta": (3,),
        "series": (1, 3),
        "year": (1,),
    }
    assert fitted.output_dtypes_ == {
        "text": np.dtype("float32"),
        "meta": np.dtype("float32"),
        "series": np.dtype("float32"),
        "year": np.dtype("int64"),
    }


def test_transform_finds_columns_by_name_in_any_order(fitted):
    X = _table()
    shuffled = X[X.columns[::-1]].assign(label=Y)
    expected, out = fitted.transform(X), fitted.transform(shuffled)
    assert list(out) == list(expected)
    for name in expected:
        assert_array_equal(out[name], expected[name])


def test_array_at_transform_after_dataframe_fit_uses_positions():
    X = _table()[SERIES]
    prep = MultiInputTransformer([("num", StandardScaler(), ["t0", "t2"])]).fit(X)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        out = prep.transform(X.to_numpy())
    assert_array_equal(out["num"], prep.transform(X)["num"])


def test_fit_transform_equals_fit_then_transform():
    X = _table()
    from_fit_transform = _full_transformer().fit_transform(X, Y)
    from_transform = _full_transformer().fit(X, Y).transform(X)
    assert list(from_fit_transform) == list(from_transform) == ["text", "meta", "series", "year"]
    for name, value in from_transform.items():
        assert value.dtype == from_fit_transform[name].dtype
        assert_array_equal(from_fit_transform[name], value)


def _thread_name(X):
    _STEP_THREADS.append(threading.current_thread().name)
    return np.asarray(X, dtype=np.float32).reshape(len(X), -1)


_STEP_THREADS: list = []


@pytest.mark.parametrize("n_jobs", [None, 1])
def test_sequential_steps_run_in_the_calling_thread_inside_a_joblib_context(n_jobs):
    # Under a distributed joblib backend (Dask) a nested Parallel would turn every step
    # into a cluster task and let the waiting worker start other fits meanwhile.
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]})
    prep = MultiInputTransformer(
        [(name, FunctionTransformer(_thread_name), [name]) for name in ("a", "b")],
        n_jobs=n_jobs,
    )
    _STEP_THREADS.clear()
    with parallel_backend("threading", n_jobs=2):
        prep.fit_transform(X)
        prep.transform(X)
    assert _STEP_THREADS == [threading.current_thread().name] * 4


def test_n_jobs_2_gives_the_same_output_as_n_jobs_1():
    X = _table()
    sequential = _full_transformer(n_jobs=1).fit(X, Y)
    parallel = _full_transformer(n_jobs=2).fit(X, Y)
    for out_1, out_2 in [
        (sequential.transform(X), parallel.transform(X)),
        (
            _full_transformer(n_jobs=1).fit_transform(X),
            _full_transformer(n_jobs=2).fit_transform(X),
        ),
    ]:
        assert list(out_1) == list(out_2)
        for name in out_1:
            assert_array_equal(out_1[name], out_2[name])


def test_y_is_passed_to_every_step():
    X = _table()
    prep = MultiInputTransformer(
        [
            ("seen", _Recorder(), SERIES),
            ("best", SelectKBest(f_classif, k=1), SERIES),
        ]
    )
    out = prep.fit_transform(X, Y)
    assert_array_equal(prep.named_transformers_["seen"].y_, Y)
    best = int(np.argmax(f_classif(X[SERIES], Y)[0]))
    assert_array_equal(out["best"][:, 0], X[SERIES[best]].to_numpy(dtype=np.float32))
    prep.fit(X, Y)
    assert_array_equal(prep.named_transformers_["seen"].y_, Y)


# --- parameters, cloning, pickling --------------------------------------------------------


def test_nested_get_params_and_set_params():
    prep = _full_transformer()
    params = prep.get_params()
    assert params["text__max_features"] is None
    assert params["series__scale__with_mean"] is True
    assert params["year"] == "passthrough"

    prep.set_params(text__max_features=3, series__scale__with_mean=False, meta="drop", n_jobs=2)
    assert prep.transformers[0][1].max_features == 3
    assert prep.transformers[2][1].named_steps["scale"].with_mean is False
    assert prep.transformers[1] == ("meta", "drop", ["brand"])
    assert prep.transformers[2][2] == SERIES
    assert prep.n_jobs == 2

    out = prep.fit_transform(_table())
    assert list(out) == ["text", "series", "year"]
    assert out["text"].shape == (8, 3)


def test_grid_search_reaches_a_nested_parameter():
    model = Pipeline(
        [
            (
                "prep",
                MultiInputTransformer(
                    [("text", CountVectorizer(), "review"), ("series", StandardScaler(), SERIES)]
                ),
            ),
            ("clf", _ConcatenatingClassifier()),
        ]
    )

    def text_width(estimator, X, y):
        # The width of the text input each fold's model saw: the searched value itself.
        return estimator.named_steps["prep"].transform(X)["text"].shape[1]

    search = GridSearchCV(
        model,
        {"prep__text__max_features": [2, 4]},
        scoring=text_width,
        cv=KFold(n_splits=2),
    ).fit(_table(), Y)
    assert_array_equal(search.cv_results_["mean_test_score"], [2, 4])
    assert search.best_params_ == {"prep__text__max_features": 4}
    assert search.best_estimator_.predict(_table()).shape == (8,)


def test_clone_gives_unfitted_independent_steps(fitted):
    copy = clone(fitted)
    assert not hasattr(copy, "transformers_")
    assert copy.transformers[0][1] is not fitted.transformers[0][1]
    assert copy.get_params()["series__scale__with_std"] is True
    assert [(name, cols) for name, _, cols in copy.transformers] == [
        ("text", "review"),
        ("meta", ["brand"]),
        ("series", SERIES),
        ("year", ["year"]),
    ]


def test_pickle_round_trip_gives_identical_outputs(fitted):
    X = _table()
    restored = pickle.loads(pickle.dumps(fitted))
    expected, out = fitted.transform(X), restored.transform(X)
    assert list(out) == list(expected)
    for name in expected:
        assert_array_equal(out[name], expected[name])
    assert restored.output_shapes_ == fitted.output_shapes_


def test_make_multi_input_transformer_names_steps_after_classes():
    prep = make_multi_input_transformer(
        (StandardScaler(), ["t0"]),
        (StandardScaler(), ["t1"]),
        (CountVectorizer(), "review"),
        ("drop", ["brand"]),
        n_jobs=2,
    )
    assert [name for name, _, _ in prep.transformers] == [
        "standardscaler-1",
        "standardscaler-2",
        "countvectorizer",
        "drop",
    ]
    assert prep.n_jobs == 2
    assert list(prep.fit_transform(_table())) == [
        "standardscaler-1",
        "standardscaler-2",
        "countvectorizer",
    ]


# --- errors -------------------------------------------------------------------------------


def test_missing_column_at_fit_names_it_and_lists_the_available_ones():
    prep = MultiInputTransformer([("num", StandardScaler(), ["t0", "nope"])])
    with pytest.raises(ValueError, match=r"'num'.*\['nope'\].*Available columns: \['review'"):
        prep.fit(_table())


def test_missing_column_at_transform_names_it_and_lists_the_available_ones(fitted):
    with pytest.raises(ValueError, match=r"step 'series' needs \['t1'\]\. Available columns: \["):
        fitted.transform(_table().drop(columns="t1"))


def test_array_with_wrong_number_of_columns_at_transform():
    X = _table()[SERIES].to_numpy()
    prep = MultiInputTransformer([("num", StandardScaler(), [0, 1])]).fit(X)
    with pytest.raises(
        ValueError, match="X has 2 features, but MultiInputTransformer is expecting 3"
    ):
        prep.transform(X[:, :2])


@pytest.mark.parametrize(
    "steps, error, match",
    [
        ([("a", "passthrough", "t0"), ("a", "passthrough", "t1")], ValueError, "not unique"),
        ([("a__b", "passthrough", "t0")], ValueError, "must not contain __"),
        ([("n_jobs", "passthrough", "t0")], ValueError, "conflict with constructor"),
        ([(1, "passthrough", "t0")], TypeError, "names must be strings"),
        ([], ValueError, "at least one"),
        ([("a", "passthrough")], ValueError, r"item 0 is \('a', 'passthrough'\)"),
        (
            [("clf", LogisticRegression(), SERIES)],
            TypeError,
            "'clf'.*LogisticRegression.*transform",
        ),
        ([("scale", StandardScaler, SERIES)], TypeError, r"'scale'.*StandardScaler\(\)"),
        ([("s", "scale", SERIES)], ValueError, "'s'.*'drop' and 'passthrough'"),
        ([("s", "passthrough", 6)], ValueError, r"'s'.*\[6\] out of range for X with 6"),
        ([("s", "passthrough", [True, False])], ValueError, "mask has 2 entries but X has 6"),
        ([("s", "passthrough", [])], ValueError, "'s' selects no column"),
        ([("s", "passthrough", ["t0", 1])], TypeError, "only names, only ints"),
        ([("s", "passthrough", True)], TypeError, "single boolean"),
        ([("s", "passthrough", 1.5)], TypeError, "columns must be a name"),
    ],
    ids=[
        "duplicate",
        "dunder",
        "constructor-name",
        "non-string-name",
        "empty",
        "not-a-triple",
        "not-a-transformer",
        "class",
        "unknown-string",
        "int-out-of-range",
        "mask-length",
        "empty-selection",
        "mixed-list",
        "bool-scalar",
        "float",
    ],
)
def test_invalid_steps(steps, error, match):
    with pytest.raises(error, match=match):
        MultiInputTransformer(steps).fit(_table())


def test_empty_selection_is_allowed_for_a_drop_step():
    out = MultiInputTransformer([("a", "drop", []), ("b", "passthrough", ["t0"])]).fit_transform(
        _table()
    )
    assert list(out) == ["b"]


def test_names_need_a_dataframe():
    with pytest.raises(ValueError, match="'num' selects columns by name.*DataFrame"):
        MultiInputTransformer([("num", "passthrough", ["t0"])]).fit(np.ones((3, 2)))


def test_sparse_input_is_refused():
    from scipy import sparse

    with pytest.raises(TypeError, match="sparse input"):
        MultiInputTransformer([("num", "passthrough", [0])]).fit(sparse.csr_matrix(np.eye(3)))


def test_step_changing_the_number_of_rows_is_named():
    prep = MultiInputTransformer([("bad", FunctionTransformer(_first_two_rows), SERIES)])
    with pytest.raises(ValueError, match="Step 'bad' returned 2 rows for 8 input rows"):
        prep.fit(_table())


def test_set_output_pandas_is_refused_with_a_reason():
    prep = _full_transformer()
    assert prep.set_output(transform="default") is prep
    with pytest.raises(ValueError, match="dict of NumPy arrays.*'pandas'"):
        prep.set_output(transform="pandas")
    with pytest.raises(ValueError, match="dict of NumPy arrays.*'pandas'"):
        Pipeline([("prep", prep), ("clf", _ConcatenatingClassifier())]).set_output(
            transform="pandas"
        )


def test_feature_names_out_are_a_dict_by_entry(fitted):
    names = fitted.get_feature_names_out()
    assert isinstance(names, dict) and list(names) == list(fitted.output_shapes_)


# --- tags and the scikit-learn estimator checks -------------------------------------------


def test_tags_follow_the_steps():
    numeric = get_tags(MultiInputTransformer([("num", PCA(), SERIES)])).input_tags
    assert (numeric.string, numeric.allow_nan, numeric.sparse) == (False, False, False)
    text = get_tags(_full_transformer()).input_tags
    assert (text.string, text.allow_nan) == (True, False)
    raw = get_tags(MultiInputTransformer([("raw", "passthrough", SERIES)])).input_tags
    assert (raw.string, raw.allow_nan) == (True, True)


class _DuckTransformer:
    """A transformer that does not inherit from BaseEstimator, hence has no tags."""

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X) * 2


def test_step_without_tags_gets_the_default_tags():
    prep = MultiInputTransformer([("duck", _DuckTransformer(), ["t0"])])
    tags = get_tags(prep).input_tags
    assert (tags.string, tags.allow_nan) == (False, False)
    assert_array_equal(prep.fit_transform(_table())["duck"][:2, 0], np.float32([0.2, 0.8]))


DICT_OUTPUT = (
    "transform returns a dict of arrays (one per model input) and the check compares it as "
    "one array; {} checks the same property per entry"
)
EXPECTED_FAILED_CHECKS = {
    "check_transformer_general": DICT_OUTPUT.format("test_fit_transform_equals_fit_then_transform"),
    "check_transformer_data_not_an_array": DICT_OUTPUT.format("test_single_array_checks"),
    "check_pipeline_consistency": DICT_OUTPUT.format("test_single_array_checks"),
    "check_estimators_pickle": DICT_OUTPUT.format("test_pickle_round_trip_gives_identical_outputs"),
    "check_fit_idempotent": DICT_OUTPUT.format("test_single_array_checks"),
    "check_methods_subset_invariance": DICT_OUTPUT.format("test_single_array_checks"),
    "check_methods_sample_order_invariance": DICT_OUTPUT.format("test_single_array_checks"),
}


@parametrize_with_checks(
    [MultiInputTransformer([("num", StandardScaler(), slice(None))])],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
    xfail_strict=True,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


class _SingleArrayOutput(MultiInputTransformer):
    """Returns the only dict entry itself, so the checks that compare arrays can run."""

    def fit_transform(self, X, y=None):
        return next(iter(super().fit_transform(X, y).values()))

    def transform(self, X):
        return next(iter(super().transform(X).values()))


@parametrize_with_checks([_SingleArrayOutput([("num", StandardScaler(), slice(None))])])
def test_single_array_checks(estimator, check):
    """Without the dict container every check passes: the expected failures are about it only."""
    check(estimator)


def test_step_errors_name_the_step_and_its_columns():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, 3.0], "c": ["x", "y", "z"]})
    mit = MultiInputTransformer([("num", StandardScaler(), ["a", "b"])])
    with pytest.raises(
        ValueError, match=r"Column 'a' holds an infinite value \(first at row 1\)"
    ) as info:
        mit.fit(X.assign(a=[1.0, np.inf, 3.0]))
    assert (
        "Raised by step 'num' of MultiInputTransformer (columns ['a', 'b'])."
        in info.value.__notes__
    )
    fitted = mit.fit(X)
    with pytest.raises(ValueError) as info:
        fitted.transform(X.assign(a=[1.0, 2.0, np.inf]))
    assert info.value.__notes__ == [
        "Raised by step 'num' of MultiInputTransformer (columns ['a', 'b'])."
    ]


def test_signature_matches_the_design_contract():
    # The documented signature: MultiInputTransformer(transformers, n_jobs=None); n_jobs may
    # be positional.
    mit = MultiInputTransformer([("num", StandardScaler(), ["a"])], 2)
    assert mit.get_params(deep=False) == {
        "transformers": [("num", mit.transformers[0][1], ["a"])],
        "n_jobs": 2,
    }


def test_integer_selectors_follow_reordered_string_columns():
    X = _table()[SERIES]
    prep = MultiInputTransformer([("first", "passthrough", [0])]).fit(X)
    out = prep.transform(X[SERIES[::-1]])
    assert_array_equal(out["first"], X[[SERIES[0]]].to_numpy(dtype=np.float32))


def test_reordered_non_string_column_labels_are_refused():
    X = pd.DataFrame(np.arange(6.0).reshape(3, 2))
    prep = MultiInputTransformer([("first", "passthrough", [0])]).fit(X)
    assert_array_equal(prep.transform(X)["first"], [[0.0], [2.0], [4.0]])
    message = r"columns of X are \[1, 0\], but .* \[0, 1\] .*position 0"
    with pytest.raises(ValueError, match=message):
        prep.transform(X[[1, 0]])
    with pytest.raises(ValueError, match=r"first difference at position 1: 5 instead of 1"):
        prep.transform(X.set_axis([0, 5], axis=1))
