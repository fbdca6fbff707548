"""Tests for skmultimodal.datasets.make_multimodal_classification."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.preprocessing import OneHotEncoder

from skmultimodal.datasets import (
    NEGATIVE_WORDS,
    POSITIVE_WORDS,
    make_multimodal_classification,
)

SERIES_REGEX = r"^t\d+(_f\d+)?$"


def load_pixels(paths):
    return np.stack([np.asarray(Image.open(path)) for path in paths])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """600 samples: enough for stable 3-fold accuracies, fast to fit linear models on."""
    image_dir = tmp_path_factory.mktemp("dataset")
    X, y, signals = make_multimodal_classification(
        600, image_dir=image_dir, return_signals=True, random_state=0
    )
    return X, y, signals, image_dir


def test_columns_dtypes_and_shapes(dataset):
    X, y, signals, _ = dataset
    assert X.columns.tolist() == ["image", "text", *[f"t{t}" for t in range(8)], "category"]
    assert X.shape == (600, 11)
    assert all(X[f"t{t}"].dtype == np.float64 for t in range(8))
    assert all(
        isinstance(value, str) for column in ("image", "text", "category") for value in X[column]
    )
    assert sorted(X["category"].unique()) == ["c0", "c1", "c2", "c3"]
    assert y.shape == (600,)
    assert y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert signals.columns.tolist() == ["image", "text", "series", "category"]
    assert (signals.dtypes == np.int64).all()
    for column in ("image", "text", "series", "category"):
        assert set(signals[column]) == {-1, 1}


def test_images_are_rgb_pngs_of_image_size_in_image_dir(dataset):
    X, _, _, image_dir = dataset
    for i, path in enumerate(X["image"]):
        path = Path(path)
        assert path.is_absolute()
        assert path.parent == image_dir.resolve()
        assert path.name == f"image_{i:03d}.png"
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.mode == "RGB"
            assert image.size == (16, 16)  # Pillow reports (width, height)


def test_non_square_image_size_is_height_width(tmp_path):
    X, _ = make_multimodal_classification(3, image_dir=tmp_path, image_size=(8, 12), random_state=0)
    assert load_pixels(X["image"]).shape == (3, 8, 12, 3)


def majority(signals):
    return (signals["image"] + signals["text"] + signals["series"] > 0).to_numpy().astype(int)


def test_label_is_the_majority_of_image_text_and_series(dataset):
    _, y, signals, _ = dataset
    np.testing.assert_array_equal(y, majority(signals))


def test_category_name_encodes_a_weak_hint_at_the_label(dataset):
    X, y, signals, _ = dataset
    category_sign = np.where(X["category"].isin(["c0", "c2"]), 1, -1)
    np.testing.assert_array_equal(signals["category"], category_sign)
    agreement = np.mean(signals["category"] == 2 * y - 1)
    assert 0.6 < agreement < 0.7


def test_image_shows_a_red_or_blue_square_of_half_the_side(tmp_path):
    X, _, signals = make_multimodal_classification(
        30, image_dir=tmp_path, noise=0.0, return_signals=True, random_state=1
    )
    assert set(signals["image"]) == {-1, 1}
    pixels = load_pixels(X["image"]).astype(int)
    for image, signal in zip(pixels, signals["image"], strict=True):
        red, blue = image[..., 0], image[..., 2]
        rows, cols = np.nonzero(red != blue)
        assert len(rows) == 8 * 8
        assert rows.max() - rows.min() == 7 and cols.max() - cols.min() == 7
        expected = (217, 38) if signal == 1 else (38, 217)
        assert set(red[rows, cols]) == {expected[0]}
        assert set(blue[rows, cols]) == {expected[1]}


def test_text_has_two_sentiment_words_matching_the_signal(dataset):
    X, _, signals, _ = dataset
    for text, signal in zip(X["text"], signals["text"], strict=True):
        words = text.split(" ")
        n_positive = sum(word in POSITIVE_WORDS for word in words)
        n_negative = sum(word in NEGATIVE_WORDS for word in words)
        assert n_positive + n_negative == 2
        assert n_positive - n_negative == 2 * signal
        assert 6 <= len(words) <= 12
        assert text == text.lower()


def test_series_trend_matches_the_signal_when_noise_free(tmp_path):
    X, _, signals = make_multimodal_classification(
        40, image_dir=tmp_path, noise=0.0, return_signals=True, random_state=2
    )
    series = X.filter(regex=SERIES_REGEX).to_numpy()
    rise = series[:, -1] - series[:, 0]
    np.testing.assert_allclose(rise, signals["series"], atol=1e-12)
    np.testing.assert_allclose(
        np.diff(series, axis=1), np.repeat(rise[:, None] / 7, 7, axis=1), atol=1e-12
    )


def test_series_columns_are_grouped_by_time_step(tmp_path):
    X, _, signals = make_multimodal_classification(
        20,
        image_dir=tmp_path,
        n_timesteps=3,
        n_series_features=2,
        noise=0.0,
        return_signals=True,
        random_state=3,
    )
    names = ["t0_f0", "t0_f1", "t1_f0", "t1_f1", "t2_f0", "t2_f1"]
    assert X.columns.tolist() == ["image", "text", *names, "category"]
    # A row-major reshape, as TimeStepReshaper(timesteps=3) does, restores (n, steps, features).
    series = X[names].to_numpy().reshape(20, 3, 2)
    np.testing.assert_allclose(series[:, 2, 0] - series[:, 0, 0], signals["series"], atol=1e-12)
    distractor_rise = series[:, 2, 1] - series[:, 0, 1]
    assert set(np.round(distractor_rise, 12)) <= {-1.0, 0.0, 1.0}


def test_same_random_state_gives_identical_data_and_pixels(tmp_path):
    X1, y1 = make_multimodal_classification(20, image_dir=tmp_path / "a", random_state=7)
    X2, y2 = make_multimodal_classification(20, image_dir=tmp_path / "b", random_state=7)
    pd.testing.assert_frame_equal(X1.drop(columns="image"), X2.drop(columns="image"))
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(load_pixels(X1["image"]), load_pixels(X2["image"]))
    assert [Path(p).name for p in X1["image"]] == [Path(p).name for p in X2["image"]]


def test_different_random_state_gives_different_data(tmp_path):
    X1, _ = make_multimodal_classification(20, image_dir=tmp_path / "a", random_state=7)
    X2, _ = make_multimodal_classification(20, image_dir=tmp_path / "b", random_state=8)
    assert X1["text"].tolist() != X2["text"].tolist()
    assert not np.array_equal(load_pixels(X1["image"]), load_pixels(X2["image"]))
    assert not np.allclose(X1["t0"], X2["t0"])


def test_random_state_accepts_generator_and_randomstate(tmp_path):
    X1, _ = make_multimodal_classification(
        5, image_dir=tmp_path / "a", random_state=np.random.default_rng(3)
    )
    X2, _ = make_multimodal_classification(
        5, image_dir=tmp_path / "b", random_state=np.random.default_rng(3)
    )
    pd.testing.assert_frame_equal(X1.drop(columns="image"), X2.drop(columns="image"))
    X3, _ = make_multimodal_classification(
        5, image_dir=tmp_path / "c", random_state=np.random.RandomState(3)
    )
    X4, _ = make_multimodal_classification(
        5, image_dir=tmp_path / "d", random_state=np.random.RandomState(3)
    )
    pd.testing.assert_frame_equal(X3.drop(columns="image"), X4.drop(columns="image"))


def test_image_dir_none_shares_one_folder_with_files_named_by_content(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    X, _ = make_multimodal_classification(3, random_state=0)
    folder = Path(X.loc[0, "image"]).parent
    assert folder == (tmp_path / "skmultimodal_images").resolve()
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 3 and all(re.fullmatch(r"image_[0-9a-f]{24}\.png", n) for n in names)
    # The same data again: the same files, no new folder; other data: more files there.
    again, _ = make_multimodal_classification(3, random_state=0)
    assert again["image"].tolist() == X["image"].tolist()
    other, _ = make_multimodal_classification(3, random_state=1)
    assert {Path(p).parent for p in other["image"]} == {folder}
    assert len(list(folder.iterdir())) == 6
    assert [p.name for p in tmp_path.iterdir()] == ["skmultimodal_images"]
    # The pixels are those of a folder of one's own.
    own, _ = make_multimodal_classification(3, image_dir=tmp_path / "own", random_state=0)
    for shared, mine in zip(X["image"], own["image"], strict=True):
        assert Path(shared).read_bytes() == Path(mine).read_bytes()


def test_image_dir_is_created_with_parents(tmp_path):
    target = tmp_path / "nested" / "images"
    X, _ = make_multimodal_classification(2, image_dir=str(target), random_state=0)
    assert X["image"].tolist() == [str(target / "image_0.png"), str(target / "image_1.png")]


def test_flip_y_flips_that_fraction_of_labels(tmp_path):
    _, y, signals = make_multimodal_classification(
        200, image_dir=tmp_path / "a", flip_y=1.0, return_signals=True, random_state=4
    )
    np.testing.assert_array_equal(y, 1 - majority(signals))
    _, y_noisy, signals = make_multimodal_classification(
        200, image_dir=tmp_path / "b", flip_y=0.2, return_signals=True, random_state=4
    )
    assert 0.1 < np.mean(y_noisy != majority(signals)) < 0.3


def test_each_single_signal_gives_the_documented_best_accuracy(tmp_path):
    # Signals only: tiny images keep the 4000 PNG writes fast.
    _, y, signals = make_multimodal_classification(
        4000, image_dir=tmp_path, image_size=(4, 4), return_signals=True, random_state=5
    )
    for column, best in [("image", 0.75), ("text", 0.75), ("series", 0.75), ("category", 0.65)]:
        accuracy = np.mean((signals[column] > 0) == y)
        assert abs(accuracy - best) < 0.025, column
    assert abs(y.mean() - 0.5) < 0.025


def test_fused_linear_model_beats_every_single_modality(dataset):
    X, y, _, _ = dataset
    pixels = load_pixels(X["image"]).reshape(len(X), -1) / 255.0
    features = {
        "image": pixels,
        "text": CountVectorizer().fit_transform(X["text"]).toarray(),
        "series": X.filter(regex=SERIES_REGEX).to_numpy(),
        "category": OneHotEncoder(sparse_output=False).fit_transform(X[["category"]]),
    }
    features["all"] = np.hstack(list(features.values()))
    accuracy = {
        name: cross_val_score(LogisticRegression(max_iter=2000), values, y, cv=3).mean()
        for name, values in features.items()
    }
    best_single = max(value for name, value in accuracy.items() if name != "all")
    assert best_single < 0.8, accuracy
    assert accuracy["all"] > 0.95, accuracy
    assert accuracy["all"] - best_single > 0.2, accuracy


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"n_samples": 0}, ValueError, "n_samples must be >= 1, got 0"),
        ({"n_samples": 2.5}, TypeError, "n_samples must be an int"),
        ({"n_samples": True}, TypeError, "n_samples must be an int"),
        ({"image_size": (16,)}, ValueError, r"image_size must be a \(height, width\) pair"),
        ({"image_size": 16}, ValueError, r"image_size must be a \(height, width\) pair"),
        ({"image_size": "16x16"}, ValueError, r"image_size must be a \(height, width\) pair"),
        ({"image_size": (3, 16)}, ValueError, r"image_size\[0\] \(height\) must be >= 4, got 3"),
        ({"image_size": (16, 0)}, ValueError, r"image_size\[1\] \(width\) must be >= 4, got 0"),
        ({"image_size": (16.0, 16)}, TypeError, r"image_size\[0\] \(height\) must be an int"),
        ({"n_timesteps": 1}, ValueError, "n_timesteps must be >= 2, got 1"),
        ({"n_series_features": 0}, ValueError, "n_series_features must be >= 1, got 0"),
        ({"n_categories": 1}, ValueError, "n_categories must be >= 2, got 1"),
        ({"noise": -0.1}, ValueError, r"noise must be >= 0.0, got -0.1"),
        ({"noise": float("nan")}, ValueError, "noise must be >= 0.0"),
        ({"flip_y": 1.5}, ValueError, r"flip_y must be in \[0.0, 1.0\], got 1.5"),
        ({"random_state": -1}, ValueError, "random_state must be >= 0, got -1"),
        ({"random_state": "0"}, TypeError, "random_state must be an int"),
        ({"image_dir": 3}, TypeError, "image_dir must be None, a str or an os.PathLike"),
    ],
)
def test_invalid_parameters_raise_before_writing_anything(tmp_path, params, error, match):
    params = {"image_dir": tmp_path / "images", **params}
    with pytest.raises(error, match=match):
        make_multimodal_classification(**params)
    assert not (tmp_path / "images").exists()


def test_image_dir_that_is_a_file_is_rejected(tmp_path):
    file_path = tmp_path / "not_a_folder"
    file_path.write_text("")
    with pytest.raises(ValueError, match="exists and is not a directory"):
        make_multimodal_classification(2, image_dir=file_path)
