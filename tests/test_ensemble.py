"""The bagged multimodal ensemble: selection, members, bagging, missing modalities, and the
scikit-learn contract."""

import pickle

import numpy as np
import pandas as pd
import pytest
from _settings import SMALLEST
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.ensemble import (
    MultimodalEnsembleClassifier,
    MultimodalEnsembleRegressor,
    _pixels_on_white,
    greedy_ensemble_selection,
)

WORDS = ["red", "blue", "cheap", "new", "old", "big", "small", "lamp", "mug", "shirt"]
CLASSICAL = dict(members=("classical",), random_state=0)


def text_table(n=90, seed=0):
    """A text that says the label (the word "broken") and a price that says nothing."""
    rng = np.random.RandomState(seed)
    broken = rng.rand(n) < 0.5
    text = [" ".join(rng.choice(WORDS, 3)) + (" broken" if b else "") for b in broken]
    X = pd.DataFrame({"text": text, "price": rng.rand(n)})
    return X, np.where(broken, "bad", "good")


def two_halves(n=120, seed=0):
    """Label = the text's keyword on the first half of the rows, the price's sign on the
    second: each member is right on its own half only, so both get weight."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 2, n)
    half = np.arange(n) < n // 2
    keyword = np.where(half, y == 1, rng.rand(n) < 0.5)
    text = [" ".join(rng.choice(WORDS, 3)) + (" urgent" if k else "") for k in keyword]
    price = np.where(half, rng.randn(n), np.where(y == 1, 1.0, -1.0) + 0.1 * rng.randn(n))
    return pd.DataFrame({"text": text, "price": price}), y


# -- greedy selection --------------------------------------------------------------------
def test_greedy_selection_gives_a_useless_member_no_weight():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    weights = greedy_ensemble_selection(
        [np.zeros(4), y.copy()], lambda p: float(((p - y) ** 2).mean()), 20
    )
    np.testing.assert_array_equal(weights, [0.0, 1.0])


def test_greedy_selection_mixes_members_whose_errors_cancel():
    y = np.zeros(6)
    low, high = y - 1.0, y + 1.0
    weights = greedy_ensemble_selection([low, high], lambda p: float((p**2).mean()), 10)
    np.testing.assert_array_equal(weights, [0.5, 0.5])
    assert weights.sum() == 1.0


# -- classical members -------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted_classical():
    X, y = text_table()
    return MultimodalEnsembleClassifier(**CLASSICAL, refit=False).fit(X, y), X, y


def test_refit_replaces_the_fold_copies_by_one_fitted_on_every_row():
    from skmultimodal.ensemble import _classical_text

    X, y = two_halves()
    folds = MultimodalEnsembleClassifier(**CLASSICAL, refit=False).fit(X, y)
    full = MultimodalEnsembleClassifier(**CLASSICAL).fit(X, y)
    # The same folds, out-of-fold predictions and weights: the selection is unchanged.
    assert full.weights_ == folds.weights_
    np.testing.assert_array_equal(
        full.oof_predictions_["tfidf_linear[text]"], folds.oof_predictions_["tfidf_linear[text]"]
    )
    assert all(len(copies) == 1 for copies in full.members_.values())
    alone = _classical_text("text", True).fit(X, np.searchsorted(full.classes_, y))
    np.testing.assert_allclose(
        full.members_["tfidf_linear[text]"][0].predict_proba(X), alone.predict_proba(X)
    )
    expected = sum(
        weight * full.members_[name][0].predict_proba(X[full.member_columns_[name]])
        for name, weight in full.weights_.items()
    )
    np.testing.assert_allclose(full.predict_proba(X), expected)


def test_members_are_bagged_and_weighted_on_out_of_fold_predictions(fitted_classical):
    ens, X, y = fitted_classical
    assert list(ens.members_) == ["tfidf_linear[text]", "gradient_boosting[table]"]
    assert all(len(copies) == 3 for copies in ens.members_.values())
    assert ens.member_columns_ == {
        "tfidf_linear[text]": ["text"],
        "gradient_boosting[table]": ["price"],
    }
    # The text says the label, the price nothing: all weight on the text.
    assert ens.weights_ == {"tfidf_linear[text]": 1.0, "gradient_boosting[table]": 0.0}
    assert ens.oof_scores_["tfidf_linear[text]"] == 1.0
    assert ens.oof_scores_["gradient_boosting[table]"] < 0.7
    # Each row's out-of-fold prediction comes from the copy that did not see it.
    # The folds are drawn with the seed that random_state=0 gives.
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    folds = StratifiedKFold(3, shuffle=True, random_state=seed)
    y_codes = np.searchsorted(ens.classes_, y)
    for copy, (_, test) in zip(
        ens.members_["tfidf_linear[text]"], folds.split(X, y_codes), strict=True
    ):
        np.testing.assert_allclose(
            ens.oof_predictions_["tfidf_linear[text]"][test], copy.predict_proba(X.iloc[test])
        )


def test_prediction_is_the_mean_of_the_fold_copies(fitted_classical):
    ens, X, _ = fitted_classical
    copies = ens.members_["tfidf_linear[text]"]
    expected = np.mean([copy.predict_proba(X[["text"]]) for copy in copies], axis=0)
    np.testing.assert_allclose(ens.predict_proba(X), expected)
    np.testing.assert_array_equal(ens.predict(X), ens.classes_[expected.argmax(axis=1)])


def test_report_lists_every_member_and_the_ensemble(fitted_classical):
    ens, _, _ = fitted_classical
    report = ens.report()
    assert list(report.index) == [*ens.members_, "ensemble"]
    assert report.loc["tfidf_linear[text]", "weight"] == 1.0
    assert report.loc["ensemble", "oof_score"] == ens.oof_scores_["ensemble"]


def test_complementary_members_share_the_weight():
    X, y = two_halves()
    ens = MultimodalEnsembleClassifier(**CLASSICAL).fit(X, y)
    weights = ens.weights_
    assert weights["tfidf_linear[text]"] > 0.1 and weights["gradient_boosting[table]"] > 0.1
    assert ens.oof_scores_["ensemble"] > max(
        ens.oof_scores_["tfidf_linear[text]"], ens.oof_scores_["gradient_boosting[table]"]
    )


def test_a_fit_is_repeatable_with_random_state():
    X, y = two_halves()
    first = MultimodalEnsembleClassifier(**CLASSICAL).fit(X, y)
    second = MultimodalEnsembleClassifier(**CLASSICAL).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert first.weights_ == second.weights_


# -- missing modalities ------------------------------------------------------------------
def test_a_row_without_a_text_is_predicted_by_the_other_members_renormalised():
    X, y = two_halves()
    ens = MultimodalEnsembleClassifier(**CLASSICAL).fit(X, y)
    rows = X.head(4).copy()
    rows.loc[[0, 2], "text"] = [None, "   "]
    proba = ens.predict_proba(rows)
    table = np.mean(
        [copy.predict_proba(rows[["price"]]) for copy in ens.members_["gradient_boosting[table]"]],
        axis=0,
    )
    # Rows 0 and 2 have no text: the table member alone, its weight renormalised to 1.
    np.testing.assert_allclose(proba[[0, 2]], table[[0, 2]])
    np.testing.assert_allclose(proba[[1, 3]], ens.predict_proba(X.head(4))[[1, 3]])


def test_a_row_without_its_only_weighted_member_gets_weights_chosen_again():
    X, y = text_table()
    ens = MultimodalEnsembleClassifier(**CLASSICAL).fit(X, y)  # all weight on the text
    assert ens.weights_["gradient_boosting[table]"] == 0.0
    rows = X.head(3).copy()
    rows.loc[1, "text"] = np.nan
    table = np.mean(
        [copy.predict_proba(rows[["price"]]) for copy in ens.members_["gradient_boosting[table]"]],
        axis=0,
    )
    proba = ens.predict_proba(rows)
    # The table member is all that can read row 1: the selection among the readable
    # members gives it all the weight there.
    np.testing.assert_allclose(proba[1], table[1])
    np.testing.assert_allclose(proba[[0, 2]], ens.predict_proba(X.head(3))[[0, 2]])


def test_a_row_that_no_member_can_read_is_named():
    X, y = text_table()
    ens = MultimodalEnsembleClassifier(**CLASSICAL).fit(X, y)
    rows = X.head(3).copy()
    rows.loc[2, ["text", "price"]] = [None, np.nan]
    with pytest.raises(
        ValueError, match=r"Rows at positions \[2\] lack the inputs of every member"
    ):
        ens.predict(rows)


# -- weights -----------------------------------------------------------------------------
def test_class_weight_and_sample_weight_reach_the_members():
    X, y = two_halves()
    plain = MultimodalEnsembleClassifier(**CLASSICAL).fit(X, y)
    favour_one = MultimodalEnsembleClassifier(**CLASSICAL).fit(X, y, class_weight={0: 1, 1: 10})
    assert favour_one.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean() + 0.05
    weights = np.where(y == 1, 10.0, 1.0)
    weighted = MultimodalEnsembleClassifier(**CLASSICAL).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(weighted.predict_proba(X), favour_one.predict_proba(X))
    ones = MultimodalEnsembleClassifier(**CLASSICAL).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_allclose(ones.predict_proba(X), plain.predict_proba(X))


# -- the scikit-learn contract -----------------------------------------------------------
def test_is_a_classifier_and_a_regressor_for_model_selection():
    assert is_classifier(MultimodalEnsembleClassifier())
    assert is_regressor(MultimodalEnsembleRegressor())


def test_grid_search_and_cross_validation():
    X, y = text_table()
    search = GridSearchCV(MultimodalEnsembleClassifier(**CLASSICAL), {"n_folds": [2, 3]}, cv=2).fit(
        X, y
    )
    assert search.best_score_ == 1.0
    scores = cross_val_score(MultimodalEnsembleClassifier(**CLASSICAL), X, y, cv=3)
    assert scores.min() == 1.0


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(members=("forest",)), r"members must be a non-empty sequence of \('network'"),
        (dict(members=()), "members must be a non-empty sequence"),
        (dict(n_folds=1), "n_folds must be an integer >= 2, got 1"),
        (dict(n_rounds=0), "n_rounds must be an integer >= 1, got 0"),
        (dict(on_missing="skip"), "on_missing must be 'error' or 'mask', got 'skip'"),
    ],
)
def test_invalid_parameters_are_refused_in_fit(params, message):
    X, y = text_table()
    with pytest.raises(ValueError, match=message):
        MultimodalEnsembleClassifier(**{**CLASSICAL, **params}).fit(X, y)


def test_members_that_find_no_column_are_named():
    X = pd.DataFrame({"price": np.arange(30.0) % 7, "size": np.arange(30.0) % 5})
    y = np.arange(30) % 2
    # No text column and a table that "classical" reads: fine. Only image members: none.
    with pytest.raises(ValueError, match=r"gives no member for the columns' roles"):
        MultimodalEnsembleClassifier(members=("modality_networks",)).fit(X, y)


def test_regressor_weights_members_by_squared_error():
    rng = np.random.RandomState(0)
    notes = [" ".join(rng.choice(WORDS, 3)) for _ in range(90)]
    X = pd.DataFrame({"a": rng.rand(90), "b": rng.rand(90), "note": notes})
    y = 3 * X["a"].to_numpy() + np.where(X["b"] > 0.5, 1.0, 0.0)
    reg = MultimodalEnsembleRegressor(**CLASSICAL).fit(X, y)
    assert reg.weights_["gradient_boosting[table]"] > 0.8
    assert reg.oof_scores_["gradient_boosting[table]"] > 0.8
    assert reg.predict(X).shape == (90,)
    with pytest.raises(ValueError, match="y holds NaN or infinite values"):
        MultimodalEnsembleRegressor(**CLASSICAL).fit(X, np.r_[y[:-1], np.nan])


@parametrize_with_checks(
    [
        MultimodalEnsembleClassifier(members=("classical",), random_state=0),
        MultimodalEnsembleRegressor(members=("classical",), random_state=0),
    ],
    expected_failed_checks=lambda estimator: {
        # Bagging assigns rows to folds: a row repeated twice can fall into two folds,
        # one of weight 2 into one, so the members see other training sets.
        "check_sample_weight_equivalence_on_dense_data": (
            "k-fold bagging draws other folds for repeated rows than for weighted ones"
        ),
    },
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# -- networks ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def multimodal_table(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ensemble_images")
    return make_multimodal_classification(
        n_samples=60, image_size=(8, 8), image_dir=folder, random_state=0
    )


def test_network_members_fit_on_each_fold_and_survive_clone_and_pickle(multimodal_table):
    X, y = multimodal_table
    ens = MultimodalEnsembleClassifier(
        members=("network", "modality_networks"),
        refit=False,
        n_folds=2,
        n_rounds=5,
        model_params={**SMALLEST, "epochs": 1},
        random_state=0,
    ).fit(X, y)
    assert set(ens.members_) == {
        "network",
        "network[image]",
        "network[text]",
        "network[table]",
    }
    assert ens.member_columns_["network"] == list(X.columns)
    assert all(len(copies) == 2 for copies in ens.members_.values())
    assert sum(ens.weights_.values()) == pytest.approx(1.0)
    proba = ens.predict_proba(X)
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    restored = pickle.loads(pickle.dumps(ens))
    np.testing.assert_allclose(restored.predict_proba(X), proba, rtol=1e-6)
    assert clone(ens).get_params() == ens.get_params()


def test_classical_members_cover_images_texts_and_the_table(multimodal_table):
    X, y = multimodal_table
    ens = MultimodalEnsembleClassifier(members=("classical",), n_folds=2, random_state=0)
    ens.fit(X, y)
    assert list(ens.members_) == [
        "tfidf_linear[text]",
        "pixels_linear[image]",
        "gradient_boosting[table]",
    ]
    table_columns = [c for c in X.columns if c not in ("image", "text")]
    assert ens.member_columns_["gradient_boosting[table]"] == table_columns
    # 24x24 RGB pixels, whatever the images' own size (8x8 here).
    linear = ens.members_["pixels_linear[image]"][0].named_steps["model"]
    assert linear.coef_.shape == (1, 24 * 24 * 3)


def test_transparent_pixels_are_composited_on_white():
    images = np.zeros((1, 1, 3, 4), dtype=np.uint8)  # black, fully transparent
    images[0, 0, 1] = [10, 20, 30, 255]  # opaque
    images[0, 0, 2] = [0, 0, 0, 51]  # black at 20% opacity
    expected = [1, 1, 1, 10 / 255, 20 / 255, 30 / 255, 0.8, 0.8, 0.8]
    np.testing.assert_allclose(_pixels_on_white(images), [expected], rtol=1e-6)


# -- behind make_multimodal_pipeline, the command line and skops -------------------------
def test_make_multimodal_pipeline_offers_the_ensemble_for_its_task(multimodal_table):
    from skmultimodal.auto import make_multimodal_pipeline

    X, y = multimodal_table
    ens = make_multimodal_pipeline(
        X, y, ensemble=True, model_params={"epochs": 3}, on_missing="mask", random_state=7
    )
    assert isinstance(ens, MultimodalEnsembleClassifier)
    assert ens.model_params == {"epochs": 3} and ens.random_state == 7
    assert ens.on_missing == "mask" and ens.roles["image"] == "image"
    regressor = make_multimodal_pipeline(
        X.drop(columns="category"), X["t0"] * 100 + 0.5, ensemble=True
    )
    assert isinstance(regressor, MultimodalEnsembleRegressor)
    for changed in ({"tfidf_features": None}, {"image_on_error": "zeros"}):
        with pytest.raises(ValueError, match=f"default {next(iter(changed))}"):
            make_multimodal_pipeline(X, y, ensemble=True, **changed)


def test_image_params_reach_every_members_loader_and_are_checked(multimodal_table, tmp_path):
    import shutil
    from pathlib import Path

    from skmultimodal._unwrap import nested_estimators
    from skmultimodal.image import ImageLoader

    X, y = multimodal_table
    folder = Path(X["image"].iloc[0]).parent
    ens = MultimodalEnsembleClassifier(
        members=("network", "classical"),
        n_folds=2,
        n_rounds=3,
        model_params={**SMALLEST, "epochs": 1},
        base_dir=str(folder),
        image_params={"restrict_to_base_dir": True, "formats": ["PNG"]},
        random_state=0,
    ).fit(X.assign(image=[Path(p).name for p in X["image"]]), y)
    loaders = [step for step in nested_estimators(ens) if isinstance(step, ImageLoader)]
    assert len(loaders) == 2  # network and pixel member, each refitted on every row
    assert all(loader.restrict_to_base_dir and loader.formats == ["PNG"] for loader in loaders)
    elsewhere = shutil.copy(X["image"].iloc[0], tmp_path / "elsewhere.png")
    with pytest.raises(ValueError, match="outside"):
        ens.predict(X.assign(image=str(elsewhere)))
    for bad, message in (
        ({"target_size": (4, 4)}, r"\['target_size'\] are the members' own"),
        ({"no_such": 1}, r"\['no_such'\] are not ImageLoader parameters"),
    ):
        with pytest.raises(ValueError, match=message):
            clone(ens).set_params(image_params=bad).fit(X, y)


def test_a_fitted_ensemble_round_trips_through_skops_with_the_trusted_types(
    multimodal_table, tmp_path
):
    from skmultimodal.persistence import load, save

    X, y = multimodal_table
    ens = MultimodalEnsembleClassifier(members=("classical",), n_folds=2, random_state=0)
    ens.fit(X, y)
    save(ens, tmp_path / "ensemble.skops")
    restored = load(tmp_path / "ensemble.skops")
    np.testing.assert_array_equal(restored.predict_proba(X), ens.predict_proba(X))
