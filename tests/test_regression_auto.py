"""make_multimodal_pipeline on regression tables: task detection, target transform, image size."""

import warnings

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from skmultimodal.auto import (
    DEFAULT_MODEL_PARAMS,
    DEFAULT_REGRESSOR_PARAMS,
    choose_target_transform,
    detect_task,
    make_multimodal_pipeline,
)
from skmultimodal.estimators import MultiInputKerasClassifier, MultiInputKerasRegressor


def _prices(n=362, seed=0):
    """Whole-dollar prices as a real table holds them: int64, skewed, nearly all distinct."""
    rng = np.random.RandomState(seed)
    return np.round(np.exp(rng.normal(13.0, 0.5, n)) / 100).astype(np.int64) * 100


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        (_prices(), "regression"),
        (_prices().astype(float), "regression"),
        (np.arange(25).repeat(2), "regression"),  # every value seen twice
        (np.random.RandomState(0).randint(0, 10, 500), "classification"),  # digit labels
        (np.random.RandomState(0).randint(1, 6, 300), "classification"),  # ratings 1-5
        (np.arange(21).repeat(3), "classification"),  # 21 classes of 3 rows
        (np.array(["cat", "dog"] * 20), "classification"),
        (np.array([True, False] * 20), "classification"),
        (np.linspace(0, 1, 40), "regression"),
        (np.arange(30), "regression"),
        (np.arange(20), "classification"),  # at most 20 distinct values stay classes
    ],
)
def test_detect_task_rule(y, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        task, reason = detect_task(y)
    assert task == expected
    assert reason


def test_many_repeated_whole_numbers_stay_classes_with_a_warning_that_says_how_to_choose():
    y = np.arange(40).repeat(5)
    with pytest.warns(UserWarning, match=r"40 distinct whole numbers.*task='regression'"):
        assert detect_task(y)[0] == "classification"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert detect_task(y, "regression") == ("regression", "task='regression' was given")
        detect_task(np.arange(5).repeat(10))


def test_integer_prices_build_a_log_regressor():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"area": rng.rand(362), "rooms": rng.randint(1, 6, 362)})
    pipe = make_multimodal_pipeline(X, _prices())
    reg = pipe.named_steps["clf"]
    assert type(reg) is MultiInputKerasRegressor
    assert reg.target_transform == "log"
    # The user's choice wins, by keyword or through model_params.
    assert (
        make_multimodal_pipeline(X, _prices(), target_transform=None)
        .named_steps["clf"]
        .target_transform
        is None
    )
    params = {"target_transform": "standard"}
    pipe = make_multimodal_pipeline(X, _prices(), model_params=params)
    assert pipe.named_steps["clf"].target_transform == "standard"
    # A classifier takes no target transform.
    pipe = make_multimodal_pipeline(X, rng.randint(0, 2, 362))
    assert type(pipe.named_steps["clf"]) is MultiInputKerasClassifier


def test_regressors_get_their_own_defaults_and_the_users_params_win():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"area": rng.rand(362), "rooms": rng.randint(1, 6, 362)})
    reg = make_multimodal_pipeline(X, _prices()).named_steps["clf"]
    expected = {**DEFAULT_MODEL_PARAMS, **DEFAULT_REGRESSOR_PARAMS}
    assert {k: reg.get_params()[k] for k in expected} == expected
    assert DEFAULT_REGRESSOR_PARAMS["dropout"] != MultiInputKerasRegressor().dropout
    clf = make_multimodal_pipeline(X, rng.randint(0, 2, 362)).named_steps["clf"]
    assert clf.dropout == MultiInputKerasClassifier().dropout
    assert clf.epochs == DEFAULT_MODEL_PARAMS["epochs"]
    params = {"dropout": 0.5, "epochs": 3}
    reg = make_multimodal_pipeline(X, _prices(), model_params=params).named_steps["clf"]
    assert (reg.dropout, reg.epochs) == (0.5, 3)


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        (np.exp(np.random.RandomState(0).normal(12, 0.7, 400)), "log"),
        (np.random.RandomState(0).poisson(0.7, 400) ** 2, "log1p"),  # counts with zeros
        (np.random.RandomState(0).normal(0, 1, 400), "standard"),
        (np.random.RandomState(0).uniform(1e5, 9e5, 400), "standard"),  # not skewed
        (-np.exp(np.random.RandomState(0).normal(0, 1, 400)), "standard"),  # negative
        (np.c_[np.exp(np.arange(10.0)), np.arange(10.0)], "standard"),  # two columns
        (np.full(50, 3.0), "standard"),
    ],
)
def test_choose_target_transform_rule(y, expected):
    transform, reason = choose_target_transform(y)
    assert transform == expected
    assert reason


def test_a_log_pipeline_fits_and_predicts_in_the_users_units(tmp_path):
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"area": np.exp(rng.normal(4.5, 0.5, 120)), "rooms": rng.randint(1, 6, 120)})
    price = np.round(3000 * X["area"].to_numpy() * np.exp(rng.normal(0, 0.1, 120)), -2)
    pipe = make_multimodal_pipeline(
        X, price.astype(np.int64), random_state=0, model_params={"epochs": 60}
    )
    predicted = pipe.fit(X, price).predict(X)
    assert pipe.named_steps["clf"].target_transform == "log"
    assert np.median(np.abs(predicted - price) / price) < 0.25


def _save(path, width, height):
    Image.new("RGB", (width, height), (120, 30, 200)).save(path)
    return path.name


def test_image_size_is_the_median_of_a_sample_not_the_first_image(tmp_path):
    names = [_save(tmp_path / "portrait.png", 60, 90)]
    names += [_save(tmp_path / f"land{i}.png", 160, 120) for i in range(8)]
    X = pd.DataFrame({"photo": names, "x": np.arange(9.0)})
    pipe = make_multimodal_pipeline(X, base_dir=tmp_path)
    assert pipe.named_steps["prep"].transformers[0][1].target_size == (48, 64)


def test_image_size_probe_skips_unreadable_files_and_applies_exif_orientation(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    (tmp_path / "text.jpg").write_text("hello")
    image = Image.new("RGB", (80, 40))
    exif = image.getexif()
    exif[0x0112] = 6  # rotated by 90 degrees: ImageLoader gives a 80-high, 40-wide image
    image.save(tmp_path / "rotated.jpg", exif=exif)
    X = pd.DataFrame({"photo": ["broken.png", "text.jpg", "rotated.jpg"], "x": [1.0, 2.0, 3.0]})
    pipe = make_multimodal_pipeline(X, base_dir=tmp_path, roles={"photo": "image"})
    assert pipe.named_steps["prep"].transformers[0][1].target_size == (64, 32)
    X = pd.DataFrame({"photo": ["broken.png", "text.jpg"], "x": [1.0, 2.0]})
    pipe = make_multimodal_pipeline(X, base_dir=tmp_path, roles={"photo": "image"})
    assert pipe.named_steps["prep"].transformers[0][1].target_size == (64, 64)
