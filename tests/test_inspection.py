"""skmultimodal.inspection: permutation importance of whole modalities.

The mechanics (groups, errors, shapes, folds) are checked with a tiny dict-reading
estimator that needs no Keras, whose importances are known exactly; the answer itself with
one Keras pipeline fitted once, on data whose label depends only on the text."""

import subprocess
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
from _settings import UNITS
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from skmultimodal.compose import MultiInputTransformer
from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.image import ImageLoader
from skmultimodal.inspection import cross_validate_modality_importance, modality_importance
from skmultimodal.sequence import TimeStepReshaper
from skmultimodal.text import TextTfidfVectorizer, TextTokenizer

matplotlib.use("Agg")


class KeyModel(ClassifierMixin, BaseEstimator):
    """Predicts ``X[key][:, 0] > 0`` from a dict of arrays: no Keras, exact importances."""

    def __init__(self, key="a"):
        self.key = key

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.fitted_on_ = len(y)
        return self

    def predict(self, X):
        check_is_fitted(self)
        return (np.asarray(X[self.key])[:, 0] > 0).astype(int)


def _table(n=60, seed=0):
    rng = np.random.RandomState(seed)
    words = np.array(["red", "green", "blue", "big", "small"])
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "text": [" ".join(rng.choice(words, size=3)) for _ in range(n)],
        }
    )
    return X, (X["a"] > 0).astype(int).to_numpy()


def _key_pipeline():
    prep = MultiInputTransformer(
        [
            ("a", StandardScaler(with_mean=False), ["a"]),
            ("b", "passthrough", ["b"]),
            ("text", TextTokenizer(), "text"),
            ("text_tfidf", TextTfidfVectorizer(), "text"),
        ]
    )
    return Pipeline([("prep", prep), ("model", KeyModel("a"))])


# -- mechanics, without Keras ---------------------------------------------------------------
def test_steps_reading_the_same_column_are_one_modality():
    X, y = _table()
    result = modality_importance(_key_pipeline().fit(X, y), X, y, n_repeats=4, random_state=0)
    assert result.modalities == ["a", "b", "text"]
    assert result.inputs == {"a": ["a"], "b": ["b"], "text": ["text", "text_tfidf"]}
    assert result.importances.shape == (3, 4)
    assert result.importances_mean.shape == result.importances_std.shape == (3,)
    assert result.baseline_score == 1.0
    # Only "a" is read: shuffling it costs about half the rows, the others cost nothing.
    assert result.importances_mean[0] > 0.3
    np.testing.assert_array_equal(result.importances[1:], 0.0)
    np.testing.assert_allclose(result.importances_mean, result.importances.mean(axis=1))
    np.testing.assert_allclose(result.importances_std, result.importances.std(axis=1))


def test_presence_masks_move_with_their_modality():
    X, y = _table()
    X.loc[::4, "text"] = None
    pipe = _key_pipeline()
    pipe.set_params(prep__text=TextTokenizer(on_missing="mask"))
    result = modality_importance(pipe.fit(X, y), X, y, n_repeats=2, random_state=0)
    assert result.inputs["text"] == ["text", "text_tfidf", "text__present"]
    assert "text__present" not in result.modalities
    inputs = {"a": X[["a"]].to_numpy(), "b": X[["b"]].to_numpy()}
    inputs["b__present"] = np.arange(len(y)) % 3 > 0
    result = modality_importance(KeyModel("a").fit(inputs, y), inputs, y, random_state=0)
    assert result.modalities == ["a", "b"] and result.inputs["b"] == ["b", "b__present"]


def test_modalities_choose_the_groups_and_unknown_names_are_refused():
    X, y = _table()
    pipe = _key_pipeline().fit(X, y)
    result = modality_importance(
        pipe, X, y, modalities={"numbers": ["a", "b"], "tokens": ["text"]}, random_state=0
    )
    assert result.modalities == ["numbers", "tokens"]
    assert result.importances_mean[0] > 0.3 and result.importances_mean[1] == 0.0
    with pytest.raises(ValueError, match=r"unknown inputs \['image'\].*\['a', 'b', 'text'"):
        modality_importance(pipe, X, y, modalities={"pixels": ["image"]})
    with pytest.raises(ValueError, match=r"modalities\['a'\] must be a non-empty list"):
        modality_importance(pipe, X, y, modalities={"a": "a"})


def test_a_search_is_read_through_its_best_estimator():
    X, y = _table()
    search = GridSearchCV(_key_pipeline(), {"model__key": ["b", "a"]}, cv=2).fit(X, y)
    direct = modality_importance(search.best_estimator_, X, y, random_state=3)
    through = modality_importance(search, X, y, random_state=3)
    np.testing.assert_array_equal(through.importances, direct.importances)


def test_random_state_makes_the_shuffles_repeatable():
    X, y = _table(200)
    pipe = _key_pipeline().fit(X, y)
    first, again, other = (
        modality_importance(pipe, X, y, n_repeats=3, random_state=seed) for seed in (0, 0, 1)
    )
    np.testing.assert_array_equal(first.importances, again.importances)
    assert not np.array_equal(first.importances[0], other.importances[0])
    # Each repeat draws its own permutation.
    assert len(set(first.importances[0])) > 1


def test_a_dict_for_a_pipeline_with_a_transformer_is_refused():
    X, y = _table()
    pipe = _key_pipeline().fit(X, y)
    with pytest.raises(TypeError, match="must be the table it reads"):
        modality_importance(pipe, pipe[0].transform(X), y)


def test_a_table_for_an_estimator_without_transformer_is_refused():
    X, y = _table()
    model = KeyModel("a").fit({"a": X[["a"]].to_numpy()}, y)
    with pytest.raises(TypeError, match="X must be a dict of arrays.*got DataFrame"):
        modality_importance(model, X, y)


def test_bad_arguments_are_named():
    X, y = _table()
    pipe = _key_pipeline().fit(X, y)
    for n_repeats in (0, 1.5, True):
        with pytest.raises(ValueError, match="n_repeats must be an int >= 1"):
            modality_importance(pipe, X, y, n_repeats=n_repeats)
    with pytest.raises(ValueError, match="X has 60 rows but y has 59"):
        modality_importance(pipe, X, y[:-1])
    with pytest.raises(ValueError, match="scoring must be one scorer"):
        modality_importance(pipe, X, y, scoring=["accuracy", "f1"])


def test_an_unfitted_estimator_is_refused():
    X, y = _table()
    with pytest.raises(NotFittedError):
        modality_importance(_key_pipeline(), X, y)
    with pytest.raises(NotFittedError):
        modality_importance(KeyModel(), {"a": X[["a"]].to_numpy()}, y)


def test_cross_validation_fits_a_clone_per_fold_and_scores_the_held_out_rows():
    X, y = _table(90)
    pipe = _key_pipeline()
    result = cross_validate_modality_importance(
        pipe, X, y, cv=3, n_repeats=2, scoring="accuracy", random_state=0
    )
    assert result.modalities == ["a", "b", "text"]
    assert result.importances.shape == (3, 3, 2)
    assert result.fold_importances_mean.shape == (3, 3)
    np.testing.assert_allclose(result.fold_importances_mean, result.importances.mean(axis=2))
    np.testing.assert_allclose(result.importances_mean, result.fold_importances_mean.mean(1))
    np.testing.assert_allclose(result.importances_std, result.fold_importances_mean.std(1))
    np.testing.assert_array_equal(result.baseline_scores, 1.0)
    assert (result.fold_importances_mean[0] > 0.2).all()
    np.testing.assert_array_equal(result.importances[1:], 0.0)
    with pytest.raises(NotFittedError):
        check_is_fitted(pipe)  # the estimator given is cloned, not fitted
    again = cross_validate_modality_importance(
        pipe, X, y, cv=3, n_repeats=2, scoring="accuracy", random_state=0
    )
    np.testing.assert_array_equal(again.importances, result.importances)


def test_cross_validation_on_a_dict_uses_stratified_folds():
    X, y = _table(90)
    inputs = {"a": X[["a"]].to_numpy(), "b": X[["b"]].to_numpy()}
    seen = []

    class Recording(KeyModel):
        def fit(self, X, y):
            seen.append(np.bincount(y, minlength=2))
            return super().fit(X, y)

    result = cross_validate_modality_importance(Recording("a"), inputs, y, cv=3, n_repeats=1)
    assert result.importances.shape == (2, 3, 1)
    # StratifiedKFold: every training fold holds two thirds of each class (+-1 row).
    expected = np.bincount(y) * 2 / 3
    for counts in seen:
        np.testing.assert_allclose(counts, expected, atol=1)


def test_importing_inspection_loads_no_tensorflow():
    code = (
        "import sys, skmultimodal, skmultimodal.inspection; "
        "assert skmultimodal.inspection.modality_importance; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plot_modality_importance_draws_one_bar_per_modality():
    import matplotlib.pyplot as plt

    from skmultimodal.plotting import plot_modality_importance

    X, y = _table()
    result = modality_importance(_key_pipeline().fit(X, y), X, y, n_repeats=3, random_state=0)
    ax = plot_modality_importance(result)
    try:
        assert [label.get_text() for label in ax.get_yticklabels()][-1] == "a"  # on top
        widths = sorted(patch.get_width() for patch in ax.patches)
        np.testing.assert_allclose(widths, sorted(result.importances_mean))
        fig, own = plt.subplots()
        assert plot_modality_importance(result, own, n_std=0) is own
        plt.close(fig)
    finally:
        plt.close(ax.figure)
    with pytest.raises(TypeError, match="lacks"):
        plot_modality_importance({"modalities": ["a"]})


# -- the answer, with Keras: the label depends on the text only -----------------------------
@pytest.fixture(scope="module")
def text_only(tmp_path_factory):
    """A pipeline fitted on 160 rows whose label is the text's signal, and 80 held-out rows.

    The images and the series carry their own signals, independent of this label, and the
    category is shuffled: all three are noise. About 10 s (40 epochs of a tiny model)."""
    X, _, signals = make_multimodal_classification(
        240,
        image_dir=tmp_path_factory.mktemp("images"),
        image_size=(8, 8),
        n_timesteps=4,
        random_state=0,
        return_signals=True,
    )
    y = (signals["text"].to_numpy() > 0).astype(int)
    X["category"] = np.random.RandomState(1).permutation(X["category"].to_numpy())
    from skmultimodal.estimators import MultiInputKerasClassifier

    series = [f"t{i}" for i in range(4)]
    prep = MultiInputTransformer(
        [
            ("image", ImageLoader(target_size=(8, 8)), "image"),
            ("text", TextTokenizer(max_len=12), "text"),
            ("series", make_pipeline(StandardScaler(), TimeStepReshaper(timesteps=4)), series),
            ("category", OneHotEncoder(sparse_output=False), ["category"]),
        ]
    )
    clf = MultiInputKerasClassifier(
        **UNITS, image_filters=(4,), sequence_units=4, epochs=40, batch_size=32, random_state=0
    )
    pipe = Pipeline([("prep", prep), ("clf", clf)]).fit(X.iloc[:160], y[:160])
    return pipe, X.iloc[160:], y[160:]


def _assert_text_alone_matters(result):
    text = result.modalities.index("text")
    mean, std = result.importances_mean, result.importances_std
    assert mean[text] - 2 * std[text] > 0.2, (mean, std)
    for i, name in enumerate(result.modalities):
        if name != "text":
            # The spread is over shuffles of one fixed held-out set, not over data sets: a
            # noise input can move the score of these 80 rows by a few rows either way, so
            # the interval is widened by 0.05 (4 rows), a tenth of the text's importance.
            assert abs(mean[i]) <= 2 * std[i] + 0.05, (name, mean, std)


def test_held_out_text_importance_through_the_pipeline(text_only):
    pipe, X_test, y_test = text_only
    result = modality_importance(pipe, X_test, y_test, n_repeats=5, random_state=0)
    assert result.modalities == ["image", "text", "series", "category"]
    assert result.baseline_score > 0.8  # chance is 0.5
    _assert_text_alone_matters(result)


def test_held_out_text_importance_from_a_dict_of_arrays(text_only):
    pipe, X_test, y_test = text_only
    inputs = pipe.named_steps["prep"].transform(X_test)
    clf = pipe.named_steps["clf"]
    result = modality_importance(clf, inputs, y_test, n_repeats=5, random_state=0)
    assert result.modalities == list(inputs)
    _assert_text_alone_matters(result)
    # The same shuffles of the same model inputs as through the pipeline.
    through_pipeline = modality_importance(pipe, X_test, y_test, n_repeats=5, random_state=0)
    np.testing.assert_array_equal(result.importances, through_pipeline.importances)
