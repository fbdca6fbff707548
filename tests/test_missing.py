"""Rows with a missing modality: presence masks from the transformers to the model, and
modality dropout (skmultimodal.missing, ``on_missing="mask"``, ``modality_dropout``)."""

import pickle

import numpy as np
import pandas as pd
import pytest
from _settings import TINY, text_image_numbers
from PIL import Image
from sklearn.base import clone
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmultimodal import (
    ArrayColumnStacker,
    ImageLoader,
    MultiInputKerasClassifier,
    MultiInputKerasRegressor,
    MultiInputTransformer,
    TextTokenizer,
    TimeStepReshaper,
)
from skmultimodal.auto import make_multimodal_pipeline
from skmultimodal.missing import MaskedInput, MaskMissingRows, is_missing_value

SERIES = [f"t{i}" for i in range(4)]


# -- transformers ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("missing_images")
    for i, colour in enumerate([(255, 0, 0), (0, 255, 0), (0, 0, 255)]):
        Image.new("RGB", (12, 12), colour).save(folder / f"{i}.png")
    return folder


@pytest.mark.parametrize("lazy", [False, True])
def test_image_loader_masks_missing_paths(image_folder, lazy):
    paths = ["0.png", None, "1.png", float("nan"), "", "2.png", pd.NA]
    masked = ImageLoader((4, 4), base_dir=image_folder, on_missing="mask", lazy=lazy).fit_transform(
        paths
    )
    assert isinstance(masked, MaskedInput)
    assert masked.present.tolist() == [True, False, True, False, False, True, False]
    images = np.asarray(masked.values)
    assert not images[~masked.present].any()  # blank placeholders
    full = ImageLoader((4, 4), base_dir=image_folder).fit_transform(["0.png", "1.png", "2.png"])
    np.testing.assert_array_equal(images[masked.present], full)


def test_image_loader_mask_keeps_on_error_for_broken_files(image_folder):
    loader = ImageLoader((4, 4), base_dir=image_folder, on_missing="mask")
    with pytest.raises(FileNotFoundError, match="row 1"):
        loader.fit_transform(["0.png", "absent.png", None])
    with pytest.warns(UserWarning, match="1 of 3 images") as record:
        masked = loader.set_params(on_error="zeros").fit_transform(["0.png", "absent.png", None])
    assert masked.present.tolist() == [True, True, False]  # a broken file is not "missing"
    assert [row for row, _ in record[0].message.failed_paths] == [1]


def test_image_loader_default_still_refuses_a_missing_path(image_folder):
    with pytest.raises(ValueError, match="missing"):
        ImageLoader((4, 4), base_dir=image_folder).fit_transform(["0.png", None])


def test_text_tokenizer_masks_missing_texts():
    texts = ["a red cat", None, "  ", "the dog", float("nan"), "cat"]
    plain = TextTokenizer().fit_transform(texts)
    masked = TextTokenizer(on_missing="mask").fit_transform(texts)
    assert masked.present.tolist() == [True, False, False, True, False, True]
    np.testing.assert_array_equal(masked.values, plain)
    assert not masked.values[~masked.present].any()
    fitted = TextTokenizer(on_missing="mask").fit(texts)
    assert fitted.transform(["cat", None]).present.tolist() == [True, False]


def test_time_step_reshaper_masks_rows_that_are_all_missing():
    X = np.array([[1.0, 2.0, 3.0, 4.0], [np.nan] * 4, [5.0, 6.0, 7.0, 8.0]])
    reshaper = TimeStepReshaper(timesteps=2, on_missing="mask").fit(X)
    masked = reshaper.transform(X)
    assert masked.present.tolist() == [True, False, True]
    assert masked.values.shape == (3, 2, 2) and not masked.values[1].any()
    np.testing.assert_array_equal(masked.values[0], [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match=r"row 1 has a missing value \(NaN\) at time step 0"):
        reshaper.transform(np.array([[1.0, 2, 3, 4], [1.0, np.nan, 3, 4]]))
    with pytest.raises(ValueError, match="NaN"):
        TimeStepReshaper(timesteps=2).fit(X)


def test_array_column_stacker_masks_missing_cells():
    column = pd.Series([[1.0, 2.0], None, np.array([3.0, 4.0]), float("nan")], name="emb")
    stacker = ArrayColumnStacker(on_missing="mask").fit(column)
    assert stacker.output_shape_ == (2,)
    masked = stacker.transform(column)
    assert masked.present.tolist() == [True, False, True, False]
    np.testing.assert_array_equal(masked.values, [[1, 2], [0, 0], [3, 4], [0, 0]])
    with pytest.raises(ValueError, match="row 1.* is missing"):
        ArrayColumnStacker().fit(column)
    with pytest.raises(ValueError, match="every cell of column 'emb' is missing"):
        ArrayColumnStacker(on_missing="mask").fit(column.iloc[[1, 3]])


def test_mask_missing_rows_fits_on_present_rows_only():
    X = pd.DataFrame({"a": [1.0, np.nan, 3.0, 5.0], "b": [2.0, np.nan, np.nan, 6.0]})
    wrapper = MaskMissingRows(StandardScaler()).fit(X)
    np.testing.assert_allclose(wrapper.transformer_.mean_[0], 3.0)  # row 1 left out
    masked = wrapper.transform(X)
    assert masked.present.tolist() == [True, False, True, True]
    assert not masked.values[1].any()
    assert np.isnan(masked.values[2, 1])  # partly missing: the wrapped step's business
    all_absent = wrapper.transform(X.iloc[[1, 1]])
    assert all_absent.values.shape == (2, 2) and not all_absent.present.any()
    categories = MaskMissingRows(OneHotEncoder(sparse_output=True)).fit_transform(
        pd.DataFrame({"c": ["x", None, "y"]})
    )
    assert categories.values.tolist() == [[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]
    with pytest.raises(ValueError, match="every row of the 2 column"):
        MaskMissingRows(StandardScaler()).fit(X.iloc[[1]])


class _ValuesOnly(MaskMissingRows):
    """Returns the MaskedInput's values, so that scikit-learn's array checks can run."""

    def fit_transform(self, X, y=None):
        return super().fit_transform(X, y).values

    def transform(self, X):
        return super().transform(X).values


@parametrize_with_checks([_ValuesOnly(StandardScaler())])
def test_mask_missing_rows_sklearn_checks(estimator, check):
    check(estimator)


def test_is_missing_value():
    assert [is_missing_value(v) for v in (np.float32("nan"), pd.NaT, b"", "x", 1.5)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    with pytest.raises(ValueError, match="1-D boolean"):
        MaskedInput(np.zeros((2, 1)), np.array([1, 0]))
    with pytest.raises(ValueError, match="2 rows of values but 3"):
        MaskedInput(np.zeros((2, 1)), np.ones(3, dtype=bool))


# -- the dict and the model -----------------------------------------------------------------
def _table(n=48, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, len(SERIES))).astype("float32"), columns=SERIES)
    words = np.array(["red", "blue", "cat", "dog", "sun"])
    X["text"] = [" ".join(rng.choice(words, 3)) for _ in range(n)]
    y = (X["t0"] > 0).astype(int).to_numpy()
    return X, y


def _prep():
    return MultiInputTransformer(
        [
            ("text", TextTokenizer(on_missing="mask"), "text"),
            (
                "series",
                make_pipeline(StandardScaler(), TimeStepReshaper(2, on_missing="mask")),
                SERIES,
            ),
        ]
    )


def test_transformer_dict_carries_the_masks():
    X, y = _table()
    X.loc[[1, 5], "text"] = None
    X.loc[[2], SERIES] = np.nan
    inputs = _prep().fit_transform(X, y)
    assert list(inputs) == ["text", "text__present", "series", "series__present"]
    assert inputs["text__present"].dtype == bool
    assert np.flatnonzero(~inputs["text__present"]).tolist() == [1, 5]
    assert np.flatnonzero(~inputs["series__present"]).tolist() == [2]


@pytest.fixture(scope="module")
def masked_fit():
    """A classifier fitted on a dict with masks on the image and the text, 1/4 absent."""
    X, y = text_image_numbers(64, n_words=12, text_length=5, n_numbers=3)
    rng = np.random.default_rng(1)
    X["image__present"] = rng.random(64) > 0.25
    X["text__present"] = rng.random(64) > 0.25
    clf = MultiInputKerasClassifier(**TINY).fit(X, y)
    return clf, X, y


def test_prediction_ignores_the_placeholder_of_absent_rows(masked_fit):
    clf, X, _ = masked_fit
    expected = clf.predict_proba(X)
    rng = np.random.default_rng(2)
    noisy = dict(X)
    image, text = X["image"].copy(), X["text"].astype("int64")
    image[~X["image__present"]] = rng.integers(0, 256, image[~X["image__present"]].shape)
    # Out-of-vocabulary ids, negative ids: refused in a present row, ignored in an absent one.
    text[~X["text__present"]] = rng.integers(-5, 10**6, text[~X["text__present"]].shape)
    noisy["image"], noisy["text"] = image, text
    np.testing.assert_array_equal(clf.predict_proba(noisy), expected)
    present_rows = X["image__present"] & X["text__present"]
    assert (image[present_rows] == X["image"][present_rows]).all()
    float_placeholder = dict(X, image=X["image"].astype("float32"))
    float_placeholder["image"][~X["image__present"]] = np.nan
    np.testing.assert_array_equal(clf.predict_proba(float_placeholder), expected)


def test_absent_modality_at_predict_is_legal(masked_fit):
    clf, X, _ = masked_fit
    absent = dict(X, image__present=np.zeros(64, dtype=bool))
    proba = clf.predict_proba(absent)
    assert proba.shape == (64, 2) and np.isfinite(proba).all()
    # Not the same as the images being there: the branch is really switched off.
    assert not np.array_equal(proba, clf.predict_proba(dict(X, image__present=np.ones(64, bool))))


def test_a_left_out_mask_means_every_row_present(masked_fit):
    clf, X, _ = masked_fit
    without = {key: value for key, value in X.items() if key != "text__present"}
    np.testing.assert_array_equal(
        clf.predict_proba(without),
        clf.predict_proba(dict(X, text__present=np.ones(64, dtype=bool))),
    )


def test_mask_errors_name_the_input(masked_fit):
    clf, X, y = masked_fit
    with pytest.raises(ValueError, match="'image__present'.*boolean array"):
        clf.predict(dict(X, image__present=X["image__present"].astype(int)))
    plain = {key: X[key] for key in ("text", "image", "num")}
    fitted_plain = MultiInputKerasClassifier(**TINY).fit(plain, y)
    with pytest.raises(ValueError, match="fitted without one for input 'num'"):
        fitted_plain.predict(dict(plain, num__present=np.ones(64, dtype=bool)))
    with pytest.raises(ValueError, match="masks apply to dense inputs only"):
        from scipy import sparse

        MultiInputKerasClassifier(**TINY).fit(
            dict(plain, num=sparse.csr_matrix(plain["num"]), num__present=np.ones(64, bool)), y
        )


def test_masked_model_layers_and_no_change_without_masks(masked_fit):
    clf, _, _ = masked_fit
    names = [type(layer).__name__ for layer in clf.model_.layers]
    assert names.count("ZeroAbsentRows") == 2
    assert {"ModalityPresence", "GateBranches", "AbsenceLogits"} <= set(names)
    X, y = text_image_numbers(32, n_words=12, text_length=5, n_numbers=3)
    plain = MultiInputKerasClassifier(**TINY).fit(X, y)
    plain_names = {type(layer).__name__ for layer in plain.model_.layers}
    assert not plain_names & {"ZeroAbsentRows", "ModalityPresence", "GateBranches"}


@pytest.mark.parametrize("estimator", [MultiInputKerasClassifier, MultiInputKerasRegressor])
def test_present_data_behaves_exactly_as_without_masks(estimator):
    """Masks that flag every row present change nothing: same weights, same predictions."""
    X, y = text_image_numbers(40, n_words=12, text_length=5, n_numbers=3)
    plain = estimator(**TINY).fit(X, y)
    all_present = {**X, "image__present": np.ones(40, bool), "text__present": np.ones(40, bool)}
    masked = estimator(**TINY).fit(all_present, y)
    np.testing.assert_array_equal(masked.predict(all_present), plain.predict(X))

    def weights(model, skip=()):
        # The layer order differs (the masks are extra inputs): compare sorted weights.
        found = [
            w
            for layer in model.layers
            if type(layer).__name__ not in skip
            for w in layer.get_weights()
        ]
        return sorted(found, key=lambda w: (w.shape, w.tobytes()))

    plain_weights = weights(plain.model_)
    masked_weights = weights(masked.model_, skip=("AbsenceLogits", "GateBranches"))
    assert len(masked_weights) == len(plain_weights)
    for mine, theirs in zip(masked_weights, plain_weights, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    # The absence offsets were calibrated after the fit for the two masked inputs (text,
    # image), on copies of the training rows without them; the unmasked input's stays 0.
    absence = masked.model_.get_layer("output_absent").get_weights()[0]
    assert absence.shape == (3, 1) and absence[:2].all() and not absence[2].any()


def test_masked_model_pickles(masked_fit):
    clf, X, _ = masked_fit
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_pipeline_with_missing_modalities_cross_validates():
    X, y = _table(n=60)
    X.loc[::5, "text"] = ""
    X.loc[1::7, SERIES] = np.nan
    pipe = Pipeline([("prep", _prep()), ("clf", MultiInputKerasClassifier(**TINY))])
    scores = cross_val_score(pipe, X, y, cv=2)
    assert scores.shape == (2,) and np.isfinite(scores).all()
    all_absent = X.assign(text=None)
    all_absent[SERIES] = np.nan
    assert pipe.fit(X, y).predict_proba(all_absent).shape == (60, 2)


def _masked_auto_pipeline(small_data):
    """make_multimodal_pipeline(on_missing="mask") fitted on the small data with every kind of
    modality missing in some rows."""
    X, y = small_data
    X = X.copy()
    X.loc[X.index[::4], "image"] = None
    X.loc[X.index[1::4], "text"] = None
    series = [c for c in X.columns if c.startswith("t") and c[1:].isdigit()]
    X.loc[X.index[2::5], series] = np.nan
    X.loc[X.index[3::6], "category"] = None
    with pytest.raises(ValueError, match="on_missing='mask'"):
        make_multimodal_pipeline(X, y)
    pipe = make_multimodal_pipeline(
        X, y, on_missing="mask", image_size=(8, 8), model_params={**TINY, "epochs": 1}
    )
    return pipe.fit(X, y), X, y


def test_make_multimodal_pipeline_on_missing_mask(small_data):
    pipe, X, y = _masked_auto_pipeline(small_data)
    inputs = pipe.named_steps["prep"].transform(X)
    assert {"image__present", "text__present", "numeric__present", "categorical__present"} <= set(
        inputs
    )
    assert not inputs["image__present"][::4].any() and inputs["image__present"][1::4].all()
    assert not inputs["categorical__present"][3::6].any()
    assert pipe.predict(X.head(5)).shape == (5,)


def test_masked_pipeline_saves_and_loads_safely(small_data, tmp_path):
    from skmultimodal import persistence

    pipe, X, _ = _masked_auto_pipeline(small_data)
    persistence.save(pipe, tmp_path / "masked.skops")
    restored = persistence.load(tmp_path / "masked.skops")
    np.testing.assert_array_equal(restored.predict_proba(X), pipe.predict_proba(X))


# -- modality dropout -----------------------------------------------------------------------
def test_modality_dropout_drops_branches_in_training_only():
    import keras

    from skmultimodal.architecture import GateBranches, ModalityPresence

    layer = ModalityPresence([False, True, False], rate=0.5, seed=0)
    mask = (np.arange(4000) % 4 != 0).astype("float32").reshape(-1, 1)  # 1/4 absent
    features = [np.ones((4000, 1), "float32") * (i + 1) for i in range(3)]
    kept = keras.ops.convert_to_numpy(layer([features[0], mask], training=True))
    assert set(np.unique(kept)) == {0.0, 1.0}
    assert kept.sum(axis=1).min() >= 1  # never every branch of a row
    assert not kept[mask[:, 0] == 0, 1].any()  # an absent branch is never switched back on
    # Rows whose draws would switch off every branch keep them: with three present
    # branches, 3/8 of each branch is dropped, not 1/2.
    full_rows = mask[:, 0] == 1
    assert 0.3 < 1 - kept[full_rows][:, [0, 2]].mean() < 0.45
    gated = keras.ops.convert_to_numpy(GateBranches()([kept, *features]))
    np.testing.assert_array_equal(gated, kept * [1, 2, 3])
    inference = keras.ops.convert_to_numpy(layer([features[0], mask], training=False))
    np.testing.assert_array_equal(
        inference, np.hstack([np.ones_like(mask), mask, np.ones_like(mask)])
    )


def test_modality_dropout_parameter():
    X, y = text_image_numbers(32, n_words=12, text_length=5, n_numbers=3)
    clf = MultiInputKerasClassifier(**TINY, modality_dropout=0.3).fit(X, y)
    presence = clf.model_.get_layer("modality_presence")
    assert presence.rate == 0.3 and presence.masked == [False, False, False]
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    again = clone(clf).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert clone(clf).get_params()["modality_dropout"] == 0.3
    with pytest.raises(ValueError, match="modality_dropout"):
        MultiInputKerasClassifier(modality_dropout=1.0).fit(X, y)
    one_branch = MultiInputKerasRegressor(**TINY, modality_dropout=0.5).fit({"num": X["num"]}, y)
    assert "ModalityPresence" not in {type(layer).__name__ for layer in one_branch.model_.layers}


@pytest.mark.parametrize("batch_size", [None, -1])
def test_masked_fit_with_any_batch_size_and_several_outputs(batch_size):
    X, y = text_image_numbers(40, n_words=12, text_length=5, n_numbers=3)
    X["image__present"] = np.arange(40) % 5 > 0
    params = {**TINY, "batch_size": batch_size}
    regressor = MultiInputKerasRegressor(**params).fit(X, X["num"][:, 0])
    assert np.isfinite(regressor.predict(dict(X, image__present=np.zeros(40, bool)))).all()
    labels = np.stack([y, (X["num"][:, 1] > 0.5).astype(int)], axis=1)
    classifier = MultiInputKerasClassifier(**params).fit(X, labels)
    assert np.asarray(classifier.predict(X)).shape == (40, 2)


# -- inputs made from a masked column -------------------------------------------------------
def _text_with_followers(n=60):
    """A table whose text column feeds a masked tokenizer, a sparse TF-IDF and dense linear
    scores, a fifth of its texts missing, the label carried by the text."""
    from skmultimodal import TextTfidfVectorizer
    from skmultimodal.text import TextLinearScores

    X, _ = _table(n)
    y = X["text"].str.contains("cat").astype(int).to_numpy()
    X.loc[::5, "text"] = None
    prep = MultiInputTransformer(
        [
            ("text", TextTokenizer(on_missing="mask"), "text"),
            ("text_tfidf", TextTfidfVectorizer(), "text"),
            ("text_scores", TextLinearScores(cv=2, random_state=0), "text"),
            ("series", StandardScaler(), SERIES),
        ]
    )
    return prep, X, y


def test_steps_reading_a_masked_column_follow_its_mask():
    prep, X, y = _text_with_followers()
    fitted = prep.fit_transform(X, y)
    assert prep.presence_groups_ == {"text__present": ["text_tfidf", "text_scores"]}
    # transform carries them as fit_transform does, so fit-then-transform loses nothing.
    assert fitted.presence_groups == prep.transform(X).presence_groups == prep.presence_groups_
    # Two masks of one column: a step follows the first only.
    two = MultiInputTransformer(
        [
            ("a", TextTokenizer(on_missing="mask"), "text"),
            ("b", TextTokenizer(on_missing="mask"), ["text"]),
            ("c", "passthrough", ["text"]),
        ]
    ).fit(X)
    assert two.presence_groups_ == {"a__present": ["c"]}


def test_an_absent_column_switches_off_every_input_made_from_it():
    prep, X, y = _text_with_followers()
    inputs = prep.fit_transform(X, y)
    clf = MultiInputKerasClassifier(**TINY, wide_inputs="sparse").fit(inputs, y)
    assert clf.presence_groups_ == {"text__present": ["text_tfidf", "text_scores"]}
    absent = ~inputs["text__present"]
    # Another row's TF-IDF and scores in every row: the rows without text do not move
    # (those inputs are switched off there), the rows with text do.
    shuffled = dict(inputs)
    order = np.roll(np.arange(len(y)), 1)
    shuffled["text_tfidf"] = inputs["text_tfidf"][order]
    shuffled["text_scores"] = inputs["text_scores"][order]
    before, after = clf.predict_proba(inputs), clf.predict_proba(shuffled)
    np.testing.assert_allclose(after[absent], before[absent], rtol=1e-6, atol=1e-7)
    assert not np.allclose(after[~absent], before[~absent])
    # A plain dict (no groups) keeps the old model: those inputs act in every row.
    plain = MultiInputKerasClassifier(**TINY, wide_inputs="sparse").fit(dict(inputs), y)
    assert plain.presence_groups_ == {}
    moved = plain.predict_proba(shuffled)[absent] - plain.predict_proba(inputs)[absent]
    assert np.abs(moved).max() > 1e-4


def test_presence_groups_that_do_not_match_x_are_refused():
    from skmultimodal.compose import FittedInputs

    prep, X, y = _text_with_followers()
    inputs = prep.fit_transform(X, y)
    broken = FittedInputs({k: v for k, v in inputs.items() if k != "text_scores"})
    broken.presence_groups = inputs.presence_groups
    with pytest.raises(ValueError, match=r"switch \['text_scores'\] off with 'text__present'"):
        MultiInputKerasClassifier(**TINY).fit(broken, y)
    broken.presence_groups = {"series__present": ["text_tfidf"]}
    with pytest.raises(ValueError, match="'series__present', which is not a presence mask"):
        MultiInputKerasClassifier(**TINY).fit(broken, y)


def test_branches_of_one_column_are_dropped_together():
    import keras

    from skmultimodal.architecture import ModalityPresence

    # Branches 1 and 2 share a mask (one column): same draw, so both or neither are kept.
    layer = ModalityPresence([False, True, True], rate=0.5, seed=0, shared=[0, 1, 1])
    mask = np.ones((2000, 1), "float32")
    kept = keras.ops.convert_to_numpy(layer([mask, mask, mask], training=True))
    np.testing.assert_array_equal(kept[:, 1], kept[:, 2])
    assert 0.2 < 1 - kept[:, 1].mean() < 0.5
    assert ModalityPresence.from_config(layer.get_config()).shared == [0, 1, 1]
