"""Robustness, round 3: only regular files are opened, training data is never overwritten,
non-finite training is an error."""

import json
import os
import signal

import numpy as np
import pandas as pd
import pytest

from skmultimodal.image import ImageLoader


@pytest.fixture
def alarm():
    """Fail, instead of hanging the suite, if a call blocks for 60 s."""

    def expired(*_):
        raise TimeoutError("blocked for 60 s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _special_files(folder):
    """(path, what the message must say) for files that are not regular files."""
    fifo = folder / "photo.png"
    os.mkfifo(fifo)
    link = folder / "link_to_pipe.jpg"
    link.symlink_to(fifo)
    (folder / "a_folder.png").mkdir()
    return [
        (str(fifo), "FIFO"),
        (str(link), "FIFO"),
        ("/dev/zero", "character device"),
        (str(folder / "a_folder.png"), "directory"),
    ]


def _real_image(folder):
    from PIL import Image

    path = folder / "ok.png"
    Image.new("RGB", (6, 6), (200, 10, 10)).save(path)
    return str(path)


@pytest.mark.parametrize("lazy", [False, True])
def test_image_loader_refuses_pipes_and_devices_naming_the_row(tmp_path, alarm, lazy):
    ok = _real_image(tmp_path)
    for path, kind in _special_files(tmp_path):
        loader = ImageLoader(target_size=(4, 4), lazy=lazy, n_jobs=1)
        column = pd.Series([ok, path], name="photo")
        with pytest.raises(ValueError, match=rf"row 1.*{kind}.*not a regular file"):
            np.asarray(loader.fit_transform(column))


def test_image_loader_with_zeros_skips_a_pipe_with_a_warning(tmp_path, alarm):
    ok = _real_image(tmp_path)
    fifo = _special_files(tmp_path)[0][0]
    loader = ImageLoader(target_size=(4, 4), on_error="zeros")
    with pytest.warns(UserWarning, match="row 1"):
        images = loader.fit_transform(pd.Series([ok, fifo]))
    assert images[1].max() == 0 and images[0].max() > 0


def test_auto_pipeline_and_embedder_refuse_pipes_without_blocking(tmp_path, alarm):
    from skmultimodal.auto import make_multimodal_pipeline
    from skmultimodal.embedding import _file_digest

    ok = _real_image(tmp_path)
    special = _special_files(tmp_path)
    for path, kind in special:
        with pytest.raises(ValueError, match=kind):
            _file_digest(path)
    # Image size detection reads headers: a pipe among the sampled paths must not block.
    X = pd.DataFrame({"photo": [ok] * 5 + [special[0][0]], "n": np.arange(6.0)})
    with pytest.raises((FileNotFoundError, ValueError), match="photo|row 5"):
        make_multimodal_pipeline(X, [0, 1] * 3, roles={"photo": "image"})


# -- class 1: training that diverges is an error, never NaN predictions ------------------
@pytest.mark.parametrize(
    "key, feature, value",
    [("num", 1, 1e30), ("reading", 0, -3e28), ("num", 2, 2e36)],
)
def test_a_fit_whose_loss_becomes_non_finite_names_the_extreme_input(key, feature, value):
    from skmultimodal import MultiInputKerasRegressor

    rng = np.random.RandomState(0)
    X = {
        "num": rng.normal(size=(64, 3)).astype("float32"),
        "reading": rng.normal(size=(64, 2)).astype("float32"),
    }
    X[key][7, feature] = value
    y = rng.normal(size=64)
    reg = MultiInputKerasRegressor(epochs=3, random_state=0)
    message = rf"Training diverged.*input '{key}', feature {feature} \(largest \|value\| "
    with pytest.raises(ValueError, match=message):
        reg.fit(X, y)
    assert not hasattr(reg, "model_")  # nothing half-fitted is left behind


def test_a_diverged_refit_keeps_the_previous_model():
    from skmultimodal import MultiInputKerasRegressor

    rng = np.random.RandomState(1)
    X = {"num": rng.normal(size=(48, 3)).astype("float32")}
    y = rng.normal(size=48)
    reg = MultiInputKerasRegressor(epochs=2, branch_norm=None, random_state=0).fit(X, y)
    before = reg.predict(X)
    X["num"][0, 0] = 1e32
    with pytest.raises(ValueError, match="Training diverged"):
        reg.fit(X, y)
    X["num"][0, 0] = 0.5
    np.testing.assert_allclose(reg.predict({"num": X["num"]})[1:], before[1:], rtol=1e-6)


@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_nan_outputs_are_an_error_naming_the_rows(estimator):
    from skmultimodal import MultiInputKerasClassifier, MultiInputKerasRegressor

    rng = np.random.RandomState(2)
    X = {"num": rng.normal(size=(40, 3)).astype("float32")}
    y = rng.randint(0, 3, 40)
    Estimator = MultiInputKerasClassifier if estimator == "classifier" else MultiInputKerasRegressor
    model = Estimator(epochs=1, tabular_units=4, random_state=0).fit(X, y)
    # Weights that give NaN for large inputs only: 0 * inf.
    dense = [layer for layer in model.model_.layers if layer.name.startswith("dense")][0]
    kernel = dense.kernel.numpy()
    kernel[0, :] = 3e38
    dense.kernel.assign(kernel)
    X["num"][:, 0] = 0.0
    X["num"][[4, 11], 0] = 1e5
    message = r"for 2 of 40 rows \(rows 4, 11\).*input 'num', feature 0 \(largest \|value\| 1e\+05"
    with pytest.raises(ValueError, match=message):
        model.predict(X)


# -- class 10: columns are matched by name; extra columns are ignored ----------------------
@pytest.mark.parametrize(
    "extra",
    [["target"], ["id", "label"], ["z"] * 1, ["0", "price_é", "class"]],
)
def test_transform_matches_columns_by_name_and_names_the_right_ones_in_errors(extra):
    from sklearn.preprocessing import StandardScaler

    from skmultimodal import MultiInputTransformer, TextTokenizer

    X = pd.DataFrame({"a": [1.0, 2, 3], "b": [1.0, 5, 6], "t": ["x y", "z", "q"]})
    prep = MultiInputTransformer(
        [("num", StandardScaler(), ["a", "b"]), ("text", TextTokenizer(), "t")]
    ).fit(X)
    expected = prep.transform(X)
    wider = X.copy()
    for i, column in enumerate(extra):
        wider.insert(i, column, [9, 8, 7])  # before the fitted columns
    got = prep.transform(wider[[*extra, "t", "b", "a"]])
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key])
    broken = wider.assign(b=["oops", "1", "2"])
    with pytest.raises(ValueError) as error:
        prep.transform(broken)
    assert "Raised by step 'num' of MultiInputTransformer (columns ['a', 'b'])" in str(
        error.value.__notes__
    )


# -- class 5: the command line never writes over its own input files ------------------------
def _write_table(folder):
    X = pd.DataFrame({"n": np.arange(12.0), "label": ["a", "b"] * 6})
    X.to_csv(folder / "data.csv", index=False)
    return folder / "data.csv"


@pytest.mark.parametrize("alias", ["same", "relative", "symlink", "hardlink"])
def test_fit_and_predict_refuse_an_output_that_is_one_of_their_inputs(
    tmp_path, monkeypatch, capsys, alias
):
    from skmultimodal import cli

    csv = _write_table(tmp_path)
    before = csv.read_bytes()
    monkeypatch.chdir(tmp_path)
    output = {
        "same": str(csv),
        "relative": "./sub/../data.csv",
        "symlink": str(tmp_path / "link.csv"),
        "hardlink": str(tmp_path / "hard.csv"),
    }[alias]
    (tmp_path / "sub").mkdir()
    if alias == "symlink":
        (tmp_path / "link.csv").symlink_to(csv)
    if alias == "hardlink":
        os.link(csv, tmp_path / "hard.csv")
    assert cli.main(["fit", str(csv), "--target", "label", "-o", output]) == 2
    assert "is the training CSV file" in capsys.readouterr().err
    assert csv.read_bytes() == before
    model = tmp_path / "model.skops"
    model.write_bytes(b"not a model")
    assert cli.main(["predict", str(model), str(csv), "-o", output]) == 2
    assert "is the CSV file to predict" in capsys.readouterr().err
    assert cli.main(["predict", str(model), str(csv), "-o", str(model)]) == 2
    assert "is the model file" in capsys.readouterr().err
    assert csv.read_bytes() == before and model.read_bytes() == b"not a model"


# -- classes 2 and 7: the decode cache never serves stale pixels nor deletes others' files --
def _png(path, colour):
    from PIL import Image

    Image.new("RGB", (8, 8), colour).save(path)


@pytest.mark.parametrize("colours", [((255, 0, 0), (0, 0, 255)), ((10, 10, 10), (11, 10, 10))])
def test_a_file_rewritten_in_place_with_its_mtime_restored_is_decoded_again(tmp_path, colours):
    image = tmp_path / "a.bmp"  # uncompressed: the same size whatever the colour
    _png(image, colours[0])
    loader = ImageLoader(target_size=(4, 4), cache_dir=tmp_path / "cache")
    first = loader.fit_transform(pd.Series([str(image)]))
    stat_before = os.stat(image)
    _png(tmp_path / "b.bmp", colours[1])
    assert os.path.getsize(tmp_path / "b.bmp") == stat_before.st_size
    # cp -p / rsync --inplace: same inode, same size, the old modification time.
    image.write_bytes((tmp_path / "b.bmp").read_bytes())
    os.utime(image, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns))
    assert os.stat(image).st_ino == stat_before.st_ino
    again = loader.transform(pd.Series([str(image)]))
    assert tuple(again[0, 0, 0]) == colours[1] != tuple(first[0, 0, 0])


def test_cache_eviction_deletes_only_its_own_entries(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    others = {
        "notes.u8": b"x" * 5000,
        "0123.u8": b"x" * 5000,
        ".tmp-mine": b"y",
        "A" * 64 + ".u8": b"z" * 5000,
    }
    for name, data in others.items():
        (cache / name).write_bytes(data)
        os.utime(cache / name, (0, 0))  # older than anything the loader writes
    (cache / ("b" * 64 + ".u8")).symlink_to(tmp_path / "elsewhere")
    (tmp_path / "elsewhere").write_bytes(b"keep" * 2000)
    paths = []
    for i in range(6):
        _png(tmp_path / f"img{i}.png", (i * 40, 0, 0))
        paths.append(str(tmp_path / f"img{i}.png"))
    loader = ImageLoader(target_size=(8, 8), cache_dir=cache, cache_max_bytes=400)
    loader.fit_transform(pd.Series(paths))
    for name, data in others.items():
        assert (cache / name).read_bytes() == data, name
    assert (tmp_path / "elsewhere").read_bytes() == b"keep" * 2000
    ours = [p for p in cache.iterdir() if len(p.name) == 67 and p.name[:64].islower()]
    assert sum(p.stat().st_size for p in ours if not p.is_symlink()) <= 400


@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_cache_dir_is_refused(tmp_path, monkeypatch, empty):
    monkeypatch.chdir(tmp_path)
    _png(tmp_path / "a.png", (1, 2, 3))
    with pytest.raises(ValueError, match="cache_dir=.* names no folder"):
        ImageLoader(target_size=(4, 4), cache_dir=empty).fit_transform(pd.Series(["a.png"]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


# -- class 9: set_params on a fitted pipeline takes effect or is refused --------------------
@pytest.mark.parametrize("route", ["transformer", "pipeline"])
def test_reading_params_set_after_fit_take_effect_and_others_are_refused(tmp_path, route):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from skmultimodal import MultiInputTransformer

    inside, outside = tmp_path / "inside", tmp_path / "outside"
    inside.mkdir(), outside.mkdir()
    _png(inside / "a.png", (1, 2, 3))
    _png(outside / "b.png", (4, 5, 6))
    X = pd.DataFrame({"img": ["a.png", "a.png"], "n": [1.0, 2.0]})
    prep = MultiInputTransformer(
        [
            ("image", ImageLoader(target_size=(4, 4), base_dir=str(inside)), "img"),
            ("num", StandardScaler(), ["n"]),
        ]
    ).fit(X)
    model = Pipeline([("prep", prep)]) if route == "pipeline" else prep
    prefix = "prep__" if route == "pipeline" else ""
    far = X.assign(img=str(outside / "b.png"))
    assert prep.transform(far)["image"].shape == (2, 4, 4, 3)
    for param, value in (("restrict_to_base_dir", True), ("formats", ["JPEG"])):
        model.set_params(**{f"{prefix}image__{param}": value})
        with pytest.raises(ValueError, match="outside base_dir|allowed formats|JPEG"):
            prep.transform(far)
        assert getattr(prep.named_transformers_["image"], param) == value
        model.set_params(**{f"{prefix}image__{param}": ImageLoader().get_params()[param]})
    assert prep.transform(far)["image"].shape == (2, 4, 4, 3)
    for param, value in (("image__target_size", (8, 8)), ("num__with_mean", False)):
        model.set_params(**{prefix + param: value})
        name = param.split("__")[1]
        with pytest.raises(ValueError, match=rf"\['{name}'\] changed by set_params"):
            prep.transform(X)
        prep.fit(X)  # a new fit takes them
        size = prep.named_transformers_["image"].target_size
        assert prep.transform(X)["image"].shape[1:3] == size


# -- class 6: a loaded file chooses no folder and no absurd size -----------------------------
def _crafted(tmp_path):
    from sklearn.preprocessing import StandardScaler

    from skmultimodal import MultiInputTransformer
    from skmultimodal.missing import MaskMissingRows

    _png(tmp_path / "a.png", (1, 2, 3))
    X = pd.DataFrame({"img": [str(tmp_path / "a.png")] * 2, "n": [1.0, 2.0]})
    return MultiInputTransformer(
        [
            ("image", ImageLoader(target_size=(4, 4)), "img"),
            ("num", MaskMissingRows(StandardScaler()), ["n"]),
        ]
    ).fit(X)


@pytest.mark.parametrize(
    "craft, message",
    [
        (lambda p, d: p.named_transformers_["image"].set_params(cache_dir=str(d)), "cache_dir="),
        (lambda p, d: p.named_transformers_["image"].set_params(cache_dir="/"), "cache_dir="),
        (lambda p, d: p.named_transformers_["image"].set_params(max_pixels=None), "max_pixels"),
        (lambda p, d: p.named_transformers_["image"].set_params(max_pixels=10**12), "max_pixels"),
        (lambda p, d: p.named_transformers_["image"].set_params(n_jobs=300), "n_jobs"),
        (lambda p, d: p.set_params(n_jobs=300), "n_jobs"),
        (lambda p, d: p.set_params(n_jobs=-1000), "n_jobs"),
        (
            lambda p, d: setattr(p.named_transformers_["num"], "output_shape_", (10**7, 10**6)),
            "output_shape_",
        ),
    ],
)
def test_loaded_files_that_choose_folders_or_absurd_sizes_are_refused(tmp_path, craft, message):
    from skmultimodal.persistence import load, save

    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / ("a" * 64 + ".u8")).write_bytes(b"precious")
    prep = _crafted(tmp_path)
    craft(prep, victim)
    save(prep, tmp_path / "crafted.skops")
    with pytest.raises(ValueError, match=message):
        load(tmp_path / "crafted.skops")
    assert (victim / ("a" * 64 + ".u8")).read_bytes() == b"precious"


def test_an_ordinary_saved_transformer_still_loads(tmp_path):
    from skmultimodal.persistence import load, save

    prep = _crafted(tmp_path)
    save(prep, tmp_path / "ok.skops")
    X = pd.DataFrame({"img": [str(tmp_path / "a.png")], "n": [3.0]})
    loaded = load(tmp_path / "ok.skops")
    np.testing.assert_array_equal(loaded.transform(X)["image"], prep.transform(X)["image"])


# -- class 3 (part): lazy images resolve relative paths when transformed, not when decoded --
@pytest.mark.parametrize("base_dir", ["data", "./data/../data", None])
def test_lazy_images_keep_the_folder_they_were_transformed_in(tmp_path, monkeypatch, base_dir):
    from skmultimodal.lazy import load_inputs

    (tmp_path / "data").mkdir()
    _png(tmp_path / "data" / "a.png", (200, 100, 50))
    elsewhere = tmp_path / "elsewhere" / "data"
    elsewhere.mkdir(parents=True)
    _png(elsewhere / "a.png", (0, 0, 0))  # the same relative path from another folder
    monkeypatch.chdir(tmp_path)
    column = pd.Series(["a.png" if base_dir else "data/a.png"])
    lazy = ImageLoader(target_size=(4, 4), base_dir=base_dir, lazy=True).fit_transform(column)
    monkeypatch.chdir(tmp_path / "elsewhere")
    pixels = load_inputs({"image": lazy})["image"]
    assert tuple(pixels[0, 0, 0]) == (200, 100, 50)


# -- class 3 (part): a modality absent from every training row is refused at fit ------------
@pytest.mark.parametrize("absent", ["image", "words"])
def test_a_modality_absent_from_every_training_row_is_refused(absent):
    from skmultimodal import MultiInputKerasClassifier

    rng = np.random.RandomState(0)
    X = {
        "image": rng.randint(0, 255, size=(20, 16, 16, 1)).astype(np.uint8),
        "words": rng.randint(1, 9, size=(20, 5)).astype(np.int32),
        "num": rng.normal(size=(20, 2)).astype(np.float32),
        "image__present": np.ones(20, dtype=bool),
        "words__present": np.ones(20, dtype=bool),
    }
    X[f"{absent}__present"][:] = False
    with pytest.raises(ValueError, match=rf"Input '{absent}' is absent from every training row"):
        MultiInputKerasClassifier(epochs=1).fit(X, rng.randint(0, 2, 20))
    X[f"{absent}__present"][3] = True  # one row is enough to fit
    MultiInputKerasClassifier(epochs=1, random_state=0).fit(X, rng.randint(0, 2, 20))


# -- class 3 (part): a regression target of tiny or huge units is learnt as in unit scale -----
def test_regression_targets_in_extreme_units_predict_as_in_unit_scale():
    from skmultimodal import MultiInputKerasRegressor

    rng = np.random.RandomState(0)
    X = {"num": rng.normal(size=(60, 2)).astype("float32")}
    y = X["num"][:, 0].astype(np.float64) * 2 + 1
    params = dict(epochs=3, dropout=0.0, tabular_units=4, random_state=0)
    unit = MultiInputKerasRegressor(**params).fit(X, y).predict(X)
    for scale in (1e-300, 1e-250, 1e-30, 1e200):
        scaled = MultiInputKerasRegressor(**params).fit(X, y * scale).predict(X)
        np.testing.assert_allclose(scaled / scale, unit, rtol=1e-6, err_msg=str(scale))


# -- class 11 (part): errors that name the culprit ------------------------------------------
@pytest.mark.parametrize(
    "labels",
    [[1, "1"], [1.0, "a"], [True, "yes"], ["x", 2, None]],
)
def test_labels_of_mixed_types_are_refused_naming_them(labels):
    from skmultimodal import MultiInputKerasClassifier
    from skmultimodal.auto import detect_task

    y = np.array(labels * 8, dtype=object)[:16]
    X = {"a": np.random.RandomState(0).rand(16, 2).astype("float32")}
    with pytest.raises(ValueError, match="y mixes labels of different types"):
        detect_task(y)
    with pytest.raises(ValueError, match="mixes labels of different types|missing value"):
        MultiInputKerasClassifier(epochs=1).fit(X, y)


@pytest.mark.parametrize("column, row, value", [("b", 3, np.inf), ("a", 0, -np.inf)])
def test_an_infinite_number_in_the_auto_pipeline_names_its_column(column, row, value):
    from skmultimodal.auto import make_multimodal_pipeline

    rng = np.random.RandomState(0)
    X = pd.DataFrame({"a": rng.normal(size=30), "b": rng.normal(size=30)})
    y = np.arange(30) % 2
    fitted = make_multimodal_pipeline(X, y, model_params={"epochs": 1}).fit(X, y)
    bad = X.copy()
    bad.loc[row, column] = value
    message = rf"Column '{column}' holds an infinite value \(first at row {row}\)"
    with pytest.raises(ValueError, match=message):
        make_multimodal_pipeline(bad, y, model_params={"epochs": 1}).fit(bad, y)
    with pytest.raises(ValueError, match=message):
        fitted.predict(bad)


@pytest.mark.parametrize("labels", [["cat", "dog"], ["1.5", "n/a"], [2.0, "x"]])
def test_a_regressor_on_labels_says_to_use_a_classifier(labels):
    from skmultimodal import MultiInputKerasRegressor
    from skmultimodal.auto import make_multimodal_pipeline

    y = np.array(labels * 10, dtype=object)
    X = pd.DataFrame({"a": np.random.RandomState(0).rand(20)})
    with pytest.raises(ValueError, match=r"regression target must hold numbers; y holds .* row"):
        make_multimodal_pipeline(X, y, task="regression")
    with pytest.raises(ValueError, match="task='classification'"):
        MultiInputKerasRegressor(epochs=1).fit({"a": X.to_numpy("float32")}, y)


# -- class 1 (part): a word-vector file with a non-finite or non-numeric value --------------
@pytest.mark.parametrize(
    "bad, message",
    [
        ("nan", "the value 'nan' is not a finite"),
        ("inf", "the value 'inf' is not a finite"),
        ("1e39", "the value '1e39' is not a finite"),
        ("-Infinity", "the value '-Infinity' is not a finite"),
        ("0.5x", "'0.5x' is not a number"),
    ],
)
def test_word_vector_files_with_bad_values_name_the_file_and_line(tmp_path, bad, message):
    from skmultimodal.text import read_word_vectors

    path = tmp_path / "vectors.txt"
    path.write_text(f"cat 0.1 0.2 0.3\ndog 0.4 {bad} 0.6\nbird 0.7 0.8 0.9\n")
    with pytest.raises(ValueError, match=rf"vectors\.txt', line 2: {message}"):
        read_word_vectors(path)


# -- class 11: export with ordinary column names --------------------------------------------
@pytest.mark.parametrize(
    "names",
    [
        ["a b", "a-b", "a.b", "a/b"],  # four names one sanitiser would merge
        ["$x", "1st", "class", "prix_é"],
        ["prix é", "prix_e", "_private", "lambda"],
    ],
)
def test_export_serves_columns_whose_names_are_not_identifiers(tmp_path, names):
    import tensorflow as tf
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from skmultimodal import MultiInputKerasClassifier, MultiInputTransformer, export
    from skmultimodal.export import argument_names
    from skmultimodal.text import TextTokenizer

    rng = np.random.default_rng(0)
    numbers, text = names[:3], names[3]
    X = pd.DataFrame(rng.normal(size=(40, 3)), columns=numbers)
    X[text] = rng.choice(["good fit", "bad fit", "fine"], 40)
    y = (X[numbers[0]] > 0).astype(int).to_numpy()
    prep = MultiInputTransformer(
        [("num", StandardScaler(), numbers), ("words", TextTokenizer(), text)]
    )
    clf = MultiInputKerasClassifier(epochs=1, verbose=0, random_state=0)
    pipe = Pipeline([("prep", prep), ("clf", clf)]).fit(X, y)
    served = export(pipe, tmp_path / "model")
    keywords = argument_names(names)
    assert len(set(keywords.values())) == len(names)
    assert all(keyword.isidentifier() and keyword.isascii() for keyword in keywords.values())
    manifest = (served / "assets" / "skmultimodal_export.json").read_text()
    assert json.loads(manifest)["arguments"] == keywords
    serve = tf.saved_model.load(str(served)).signatures["serving_default"]
    given = {keywords[c]: tf.constant(X[c].to_numpy(), tf.float64) for c in numbers}
    given[keywords[text]] = tf.constant(X[text].tolist())
    proba = serve(**given)["probabilities"].numpy()
    np.testing.assert_allclose(proba, pipe.predict_proba(X), atol=1e-5)


# -- class 11: the embedder's paths and folder, backbone files, warm_start ----------------------
def _tiny_backbone(channels=3):
    import keras

    inputs = keras.Input((8, 8, channels))
    return keras.Model(inputs, keras.layers.Conv2D(2, 3)(inputs))


def _images(folder, n=4):
    from PIL import Image

    paths = []
    for i in range(n):
        path = folder / f"{i}.png"
        Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(path)
        paths.append(str(path))
    return paths


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA])
def test_the_embedder_names_rows_without_a_path(tmp_path, missing):
    from skmultimodal.embedding import ImageEmbedder

    paths = _images(tmp_path)
    embedder = ImageEmbedder(_tiny_backbone(), target_size=(8, 8), weights=None).fit(paths)
    column = pd.Series([paths[0], missing, paths[1], missing], dtype=object)
    with pytest.raises(ValueError, match=r"rows \[1, 3\] have none"):
        embedder.transform(column)


@pytest.mark.parametrize("where", ["itself", "parent"])
def test_the_embedder_refuses_a_file_as_its_cache_folder(tmp_path, where):
    from skmultimodal.embedding import ImageEmbedder

    paths = _images(tmp_path)
    blocker = tmp_path / "afile"
    blocker.write_text("keep me")
    cache = blocker if where == "itself" else blocker / "cache"
    embedder = ImageEmbedder(_tiny_backbone(), target_size=(8, 8), weights=None, cache_dir=cache)
    with pytest.raises(ValueError, match=r"'.*afile' is a file, not a folder"):
        embedder.fit(paths)
    assert blocker.read_text() == "keep me"


def test_a_backbone_of_another_channel_count_says_so():
    from skmultimodal.embedding import ImageEmbedder

    embedder = ImageEmbedder(_tiny_backbone(1), target_size=(8, 8), weights=None)
    with pytest.raises(ValueError, match="takes 1-channel images.*fed 3 channels") as info:
        embedder.fit(["unused.png"]).get_feature_names_out()
    assert "target_size" not in str(info.value)


@pytest.mark.parametrize("content", ["garbage", "other_architecture", "fewer_layers"])
@pytest.mark.parametrize("owner", ["classifier", "embedder"])
def test_backbone_weights_that_do_not_fit_name_the_parameter(tmp_path, content, owner):
    import keras

    from skmultimodal import MultiInputKerasClassifier
    from skmultimodal.embedding import ImageEmbedder

    weights = tmp_path / "backbone.weights.h5"
    if content == "garbage":
        weights.write_bytes(b"not an HDF5 file " * 20)
    elif content == "other_architecture":
        inputs = keras.Input((8, 8, 3))
        keras.Model(inputs, keras.layers.Dense(5)(inputs)).save_weights(weights)
    else:
        _tiny_backbone().save_weights(weights)
    inputs = keras.Input((8, 8, 3))
    hidden = keras.layers.Conv2D(2, 3)(inputs)
    backbone = keras.Model(inputs, keras.layers.Conv2D(2, 3)(hidden))
    if owner == "embedder":
        embedder = ImageEmbedder(backbone, target_size=(8, 8), weights=weights)
        with pytest.raises(ValueError, match=rf"ImageEmbedder: weights='{weights}'"):
            embedder.fit(["unused.png"]).get_feature_names_out()
        return
    images = np.random.default_rng(0).integers(0, 255, (10, 8, 8, 3), dtype=np.uint8)
    clf = MultiInputKerasClassifier(
        image_backbone=backbone, image_backbone_weights=str(weights), epochs=1, verbose=0
    )
    with pytest.raises(ValueError, match=rf"image_backbone_weights='{weights}'"):
        clf.fit({"image": images}, np.array([0, 1] * 5))


@pytest.mark.parametrize("new", [[2], ["a"], [0, 1, 2, 3]])
def test_warm_start_with_new_classes_says_to_refit(new):
    from skmultimodal import MultiInputKerasClassifier

    X = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    clf = MultiInputKerasClassifier(epochs=1, verbose=0, warm_start=True, random_state=0)
    clf.fit(X, np.array([0, 1] * 10))
    before = clf.predict_proba(X)
    y = np.resize(np.array(new, dtype=object if new == ["a"] else int), 20)
    y[:2] = [0, 1] if new != ["a"] else ["b", "c"]
    with pytest.raises(ValueError, match=r"warm_start=True .* classes are \[0, 1\]; y holds new"):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


# -- class 4: the served model gives the pipeline's answer or names the row -----------------
def _encoded(kind, rng):
    import io

    from PIL import Image

    pixels = rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)
    image, fmt, options = Image.fromarray(pixels), "PNG", {}
    if kind == "1-bit PNG with transparency":
        image, options = Image.fromarray(pixels[..., 0] > 128).convert("1"), {"transparency": 0}
    elif kind == "grayscale BMP":
        image, fmt = image.convert("L"), "BMP"
    elif kind == "grayscale GIF":
        image, fmt = image.convert("L"), "GIF"
    elif kind == "CMYK JPEG":
        image, fmt = image.convert("CMYK"), "JPEG"
    elif kind == "RGB JPEG":
        fmt = "JPEG"
    elif kind == "RGBA PNG":
        image = Image.fromarray(rng.integers(0, 255, (12, 12, 4), dtype=np.uint8))
    elif kind == "palette PNG":
        image = image.convert("P")
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


IMAGE_KINDS = [
    "1-bit PNG with transparency",
    "grayscale BMP",
    "grayscale GIF",
    "CMYK JPEG",
    "RGB JPEG",
    "RGBA PNG",
    "palette PNG",
]


@pytest.fixture(scope="module", params=["rgb", "rgba"])
def served(request, tmp_path_factory):
    import tensorflow as tf
    from PIL import Image
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from skmultimodal import MultiInputKerasClassifier, MultiInputTransformer, export
    from skmultimodal.text import TextTfidfVectorizer, TextTokenizer

    folder = tmp_path_factory.mktemp(f"served_{request.param}")
    rng = np.random.default_rng(0)
    paths = []
    for i in range(30):
        paths.append(str(folder / f"{i}.png"))
        Image.fromarray(rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)).save(paths[-1])
    X = pd.DataFrame(
        {
            "photo": paths,
            "text": rng.choice(["good fit", "bad fit", "fine day", "good"], 30),
            "price": rng.normal(size=30),
        }
    )
    prep = MultiInputTransformer(
        [
            ("photo", ImageLoader(target_size=(8, 8), color_mode=request.param), "photo"),
            ("text", TextTokenizer(), "text"),
            ("words", TextTfidfVectorizer(dtype=np.float32), "text"),
            ("num", StandardScaler(), ["price"]),
        ]
    )
    clf = MultiInputKerasClassifier(epochs=1, verbose=0, random_state=0, image_filters=(4,))
    pipe = Pipeline([("prep", prep), ("clf", clf)]).fit(X, rng.integers(0, 2, 30))
    serve = tf.saved_model.load(str(export(pipe, folder / "model")))
    return pipe, serve.signatures["serving_default"], folder, paths


def _serve(serve, images, texts, prices):
    import tensorflow as tf

    return serve(
        photo=tf.constant(images),
        text=tf.constant(texts),
        price=tf.constant(prices, tf.float64),
    )["probabilities"].numpy()


def test_served_images_of_every_common_kind_match_the_pipeline(served):
    pipe, serve, folder, _ = served
    rng = np.random.default_rng(1)
    files = []
    for i, kind in enumerate(IMAGE_KINDS):
        files.append(folder / f"kind{i}")
        files[-1].write_bytes(_encoded(kind, rng))
    rows = pd.DataFrame(
        {"photo": [str(f) for f in files], "text": ["good fit"] * len(files), "price": 0.5}
    )
    proba = _serve(serve, [f.read_bytes() for f in files], rows["text"].tolist(), rows["price"])
    difference = np.abs(proba - pipe.predict_proba(rows)).max(axis=1)
    # JPEG: TensorFlow's and Pillow's libjpeg builds differ by a few grey levels.
    # Resizing: float rounding of a grey level at most (RGBA: Pillow's premultiplied
    # resize, replicated to a grey level or two).
    tolerance = np.array([2e-3 if "JPEG" in kind else 1e-3 for kind in IMAGE_KINDS])
    assert (difference <= tolerance).all(), dict(zip(IMAGE_KINDS, difference, strict=True))


@pytest.mark.parametrize("text", ["good\x00fit", "GOOD\x00", "\x00", "a\x00\x00fine DAY"])
def test_served_texts_with_nul_match_the_pipeline(served, text):
    pipe, serve, _, paths = served
    rows = pd.DataFrame({"photo": paths[:1], "text": [text], "price": [0.5]})
    proba = _serve(serve, [open(paths[0], "rb").read()], [text], [0.5])
    np.testing.assert_allclose(proba, pipe.predict_proba(rows), atol=2e-4)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[: len(data) // 2], r"\[row\] \[2\] \[is cut short"),
        (lambda data: b"hello world", r"\[row\] \[2\] \[is not a PNG, JPEG, GIF or BMP"),
        (lambda data: b"", r"\[row\] \[2\] \[is not a PNG, JPEG, GIF or BMP"),
    ],
    ids=["truncated", "not an image", "empty"],
)
@pytest.mark.parametrize("kind", ["RGB JPEG", "RGBA PNG", "grayscale BMP"])
def test_a_broken_served_image_names_its_column_and_row(served, damage, message, kind):
    import tensorflow as tf

    pipe, serve, _, paths = served
    good = open(paths[0], "rb").read()
    broken = damage(_encoded(kind, np.random.default_rng(2)))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[photo\] " + message):
        _serve(serve, [good, good, broken], ["fine"] * 3, [0.1] * 3)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_a_non_finite_served_number_names_its_column_and_row(served, value):
    import tensorflow as tf

    pipe, serve, _, paths = served
    good = open(paths[0], "rb").read()
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[price\].*at row\] \[1\]"):
        _serve(serve, [good] * 3, ["fine"] * 3, [0.1, value, 0.2])
    rows = pd.DataFrame({"photo": paths[:3], "text": ["fine"] * 3, "price": [0.1, value, 0.2]})
    with pytest.raises(ValueError, match="NaN or infinity|infinite value"):
        pipe.predict_proba(rows)


# -- class 2: the embedding cache never serves another network's or a damaged entry -----------
def test_an_embedder_refitted_with_another_backbone_uses_and_caches_the_new_one(tmp_path):
    from skmultimodal.embedding import ImageEmbedder

    paths = _images(tmp_path)
    cache = tmp_path / "cache"
    first, second = _tiny_backbone(), _tiny_backbone()
    embedder = ImageEmbedder(first, target_size=(8, 8), weights="imagenet", cache_dir=cache)
    old = embedder.fit(paths).transform(paths)
    embedder.set_params(backbone=second)
    with pytest.raises(ValueError, match="backbone changed since fit"):
        embedder.transform(paths)
    new = embedder.fit(paths).transform(paths)
    fresh = ImageEmbedder(second, target_size=(8, 8), weights="imagenet").fit(paths)
    np.testing.assert_allclose(new, fresh.transform(paths), atol=1e-6)
    assert not np.allclose(new, old)
    # A later process reading the second backbone's cache gets the second's embeddings.
    again = ImageEmbedder(second, target_size=(8, 8), weights="imagenet", cache_dir=cache)
    np.testing.assert_allclose(again.fit(paths).transform(paths), new, atol=1e-6)


@pytest.mark.parametrize("cut", [1, 4, 9, -4])
def test_a_damaged_cache_entry_is_recomputed_not_read(tmp_path, cut):
    from skmultimodal.embedding import ImageEmbedder, backbone_images_seen

    paths = _images(tmp_path, 2)
    cache = tmp_path / "cache"
    embedder = ImageEmbedder(_tiny_backbone(), target_size=(8, 8), cache_dir=cache).fit(paths)
    expected = embedder.transform(paths)
    entries = sorted(p for p in cache.rglob("*.f4"))
    assert len(entries) == 2
    data = entries[0].read_bytes()
    entries[0].write_bytes(data[:cut] if cut > 0 else data[:cut])
    seen = backbone_images_seen()
    np.testing.assert_allclose(embedder.transform(paths), expected, atol=1e-6)
    assert backbone_images_seen() - seen == 1  # only the damaged one, recomputed
    assert entries[0].read_bytes() == data  # and stored whole again


def test_a_model_backbone_keeps_its_cache_key_through_pickling(tmp_path):
    import pickle

    from skmultimodal.embedding import ImageEmbedder, backbone_images_seen

    paths = _images(tmp_path)
    embedder = ImageEmbedder(_tiny_backbone(), target_size=(8, 8), cache_dir=tmp_path / "c")
    embedder.fit(paths).transform(paths)
    worker = pickle.loads(pickle.dumps(embedder))
    twice = pickle.loads(pickle.dumps(worker))
    for copy in (embedder, worker, twice):
        assert copy._backbone_key() == embedder.backbone_key_
    seen = backbone_images_seen()
    twice.transform(paths)
    assert backbone_images_seen() == seen  # every embedding came from the cache


# -- issue #30, item 1: ImageNet weights without internet --------------------------------------
def test_unreachable_imagenet_weights_fail_once_with_a_clear_error(monkeypatch):
    import keras

    from skmultimodal import MultiInputKerasClassifier, architecture

    calls = []

    original = keras.applications.MobileNetV3Small

    def offline(**kwargs):
        if kwargs["weights"] is None:  # nothing to download
            return original(**kwargs)
        calls.append(kwargs)
        raise Exception(
            "URL fetch failure on https://storage.googleapis.com/x.h5: None -- "
            "[Errno -3] Temporary failure in name resolution"
        )

    # The preprocessing is looked up in the constructor's module: keep it.
    offline.__module__ = original.__module__
    monkeypatch.setattr(keras.applications, "MobileNetV3Small", offline)
    monkeypatch.setattr(architecture, "_UNFETCHED", {})
    images = np.zeros((6, 32, 32, 3), dtype=np.uint8)
    clf = MultiInputKerasClassifier(image_backbone="MobileNetV3Small", epochs=1, verbose=0)
    for _ in range(3):  # a grid search's fits: the download is tried once
        with pytest.raises(OSError, match=r"ImageNet weights of MobileNetV3Small could not be"):
            clf.fit({"image": images}, np.array([0, 1] * 3))
    assert len(calls) == 1
    with pytest.raises(OSError, match=r"\.keras/models.*image_backbone_weights='path/to/"):
        clf.fit({"image": images}, np.array([0, 1] * 3))
    # Random weights (weights=None) never download: no error from the network.
    assert architecture.make_image_backbone("MobileNetV3Small", None, (32, 32, 3)) is not None


def test_the_cli_says_its_version(capsys):
    from skmultimodal import __version__
    from skmultimodal.cli import main

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"skmultimodal {__version__}"
