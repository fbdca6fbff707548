"""Tests for lazy image loading: ImageLoader(lazy=True), LazyImages and batch-wise fitting."""

import errno
import gc
import os
import pickle
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from skmultimodal import lazy as lazy_module
from skmultimodal.compose import MultiInputTransformer
from skmultimodal.estimators import MultiInputKerasClassifier
from skmultimodal.image import ImageLoader
from skmultimodal.lazy import ImageLoadWarning, LazyImages, load_inputs

N_IMAGES = 40


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """PNG and JPEG files of various sizes whose mean brightness depends on the label."""
    folder = tmp_path_factory.mktemp("lazy_images")
    rng = np.random.default_rng(0)
    for i in range(N_IMAGES):
        label = i % 2
        size = (20 + i % 5, 16 + i % 3, 3)
        pixels = rng.integers(0, 128, size=size, dtype=np.uint8) + 100 * label
        suffix = "jpg" if i % 4 == 3 else "png"
        Image.fromarray(pixels.astype(np.uint8)).save(folder / f"img_{i:02d}.{suffix}")
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    return folder


@pytest.fixture(scope="module")
def table(folder):
    names = sorted(p.name for p in folder.glob("img_*"))
    X = pd.DataFrame(
        {"image": names, "group": [["a", "b", "c"][i % 3] for i in range(len(names))]},
        index=[f"r{i}" for i in range(len(names))],
    )
    y = np.array([i % 2 for i in range(len(names))])
    return X, y


def loader(folder, **kwargs) -> ImageLoader:
    return ImageLoader(target_size=(16, 16), base_dir=folder, **kwargs)


# ------------------------------------------------------------------ LazyImages


def test_lazy_transform_decodes_nothing_and_loads_the_same_pixels(folder, table):
    X, _ = table
    eager = loader(folder).fit_transform(X[["image"]])
    lazy = loader(folder, lazy=True).fit_transform(X[["image"]])
    assert isinstance(lazy, LazyImages)
    assert (lazy.shape, lazy.dtype, lazy.ndim, len(lazy)) == (
        eager.shape,
        np.uint8,
        4,
        N_IMAGES,
    )
    assert lazy.paths[0] == str(folder / "img_00.png")
    np.testing.assert_array_equal(lazy.load(), eager)
    np.testing.assert_array_equal(np.asarray(lazy), eager)


def test_cache_mode_decodes_each_row_once_and_reads_back_the_same_pixels(
    folder, table, monkeypatch
):
    X, _ = table
    eager = loader(folder).fit_transform(X["image"])
    lazy = loader(folder, lazy="cache").fit_transform(X["image"])
    decoded = []
    original = ImageLoader._load_all

    def counting(self, paths, *args, **kwargs):
        decoded.extend(paths)
        return original(self, paths, *args, **kwargs)

    monkeypatch.setattr(ImageLoader, "_load_all", counting)
    rows = np.array([5, 3, 3, 30, 31, 32, 0])
    np.testing.assert_array_equal(lazy.load(rows), eager[rows])
    assert len(decoded) == len(rows)
    # All rows, unsorted: only the 34 rows not seen yet are decoded, the rest read back.
    order = np.random.default_rng(0).permutation(N_IMAGES)
    np.testing.assert_array_equal(lazy.load(order), eager[order])
    assert len(decoded) == len(rows) + N_IMAGES - 6
    decoded.clear()
    np.testing.assert_array_equal(lazy.load(), eager)
    np.testing.assert_array_equal(lazy.load(slice(10, 2, -3)), eager[10:2:-3])
    assert decoded == []
    # A copy or a subset starts with an empty cache of its own.
    copied = pickle.loads(pickle.dumps(lazy))
    np.testing.assert_array_equal(copied.load([1, 2]), eager[[1, 2]])
    np.testing.assert_array_equal(lazy[4:8].load(), eager[4:8])
    assert len(decoded) == 2 + 4


def test_cache_mode_keeps_blank_rows_of_undecodable_files(folder):
    names = ["img_00.png", "corrupt.png", "img_01.png"]
    lazy = loader(folder, lazy="cache", on_error="zeros").fit_transform(names)
    with pytest.warns(UserWarning, match="1 of 3 images could not be decoded"):
        first = lazy.load()
    assert not first[1].any() and first[0].any()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(lazy.load(), first)


def test_grayscale_and_thread_pool_give_the_same_pixels(folder, table):
    X, _ = table
    eager = loader(folder, color_mode="grayscale").fit_transform(X["image"])
    lazy = loader(folder, color_mode="grayscale", n_jobs=2, lazy=True).fit_transform(X["image"])
    assert lazy.shape == (N_IMAGES, 16, 16, 1)
    np.testing.assert_array_equal(lazy.load(), eager)


def test_indexing_returns_lazy_subsets(folder, table):
    X, _ = table
    eager = loader(folder).fit_transform(X["image"])
    lazy = loader(folder, lazy=True).fit_transform(X["image"])
    mask = np.arange(N_IMAGES) % 3 == 0
    for key in (slice(5, 12, 2), np.array([7, 0, 7, 33]), [3, 1], mask):
        subset = lazy[key]
        assert isinstance(subset, LazyImages)
        np.testing.assert_array_equal(subset.load(), eager[key])
    np.testing.assert_array_equal(lazy[4], eager[4])
    np.testing.assert_array_equal(lazy[-1], eager[-1])
    np.testing.assert_array_equal(lazy.load(np.array([2, 9])), eager[[2, 9]])
    np.testing.assert_array_equal(lazy[10:20][mask[:10]].load(), eager[10:20][mask[:10]])
    assert lazy[np.array([], dtype=int)].shape == (0, 16, 16, 3)
    with pytest.raises(TypeError, match="row indexing only"):
        lazy[0, 1]
    with pytest.raises(IndexError):
        lazy[np.ones(3, dtype=bool)]


def test_missing_path_is_refused_at_transform_naming_the_row(folder):
    with pytest.raises(ValueError, match=r"row 1: the image path is missing"):
        loader(folder, lazy=True).fit_transform(["img_00.png", None, "img_01.png"])


def test_path_outside_base_dir_is_refused_at_transform(folder, tmp_path):
    outside = tmp_path / "outside.png"
    Image.new("RGB", (4, 4)).save(outside)
    with pytest.raises(ValueError, match=r"row 1: .*outside base_dir"):
        loader(folder, restrict_to_base_dir=True, lazy=True).fit_transform(
            ["img_00.png", str(outside)]
        )


def test_file_errors_surface_at_decode_time_with_path_and_row(folder, tmp_path):
    doomed = tmp_path / "doomed.png"
    Image.new("RGB", (4, 4)).save(doomed)
    X = pd.Series(["img_00.png", "corrupt.png", str(doomed)], index=[10, 11, 12])
    lazy = loader(folder, lazy=True).fit_transform(X)
    doomed.unlink()
    # Rows that do not touch the bad files decode fine.
    assert lazy[:1].load().shape == (1, 16, 16, 3)
    with pytest.raises(ValueError, match=r"row 1 \(index 11\): .*corrupt\.png"):
        lazy.load()
    # A subset keeps the row positions of the transform input.
    with pytest.raises(FileNotFoundError, match=r"row 2 \(index 12\): .*doomed\.png"):
        lazy[2:].load()


def test_on_error_zeros_blanks_refused_and_undecodable_rows(folder):
    with pytest.warns(ImageLoadWarning, match="1 of 3 images") as refused:
        step = loader(folder, on_error="zeros", lazy=True)
        lazy = step.fit_transform(["img_00.png", None, "corrupt.png"])
    assert [w.message.failed_paths for w in refused] == [[(1, None)]]
    with pytest.warns(
        ImageLoadWarning, match=r"1 of 3 images could not be decoded.*corrupt"
    ) as bad:
        images = lazy.load()
    assert [w.message.failed_paths for w in bad] == [[(2, str(folder / "corrupt.png"))]]
    expected = loader(folder).fit_transform(["img_00.png"])[0]
    np.testing.assert_array_equal(images[0], expected)
    assert not images[1:].any()


def test_lazy_images_pickle(folder, table):
    X, _ = table
    lazy = loader(folder, lazy=True).fit_transform(X["image"])[3:9]
    restored = pickle.loads(pickle.dumps(lazy))
    np.testing.assert_array_equal(restored.load(), lazy.load())


def test_multi_input_transformer_passes_lazy_images_through(folder, table):
    X, _ = table
    prep = MultiInputTransformer(
        [
            ("image", loader(folder, lazy=True), "image"),
            ("group", OneHotEncoder(sparse_output=False), ["group"]),
        ]
    )
    out = prep.fit_transform(X)
    assert isinstance(out["image"], LazyImages)
    assert out["group"].dtype == np.float32
    assert prep.output_shapes_["image"] == (16, 16, 3)
    np.testing.assert_array_equal(
        load_inputs(prep.transform(X.iloc[:5]))["image"],
        loader(folder).fit_transform(X["image"].iloc[:5]),
    )


# ------------------------------------------------------------------ estimators


def make_pipeline(folder, lazy: bool, **clf_params) -> Pipeline:
    from skmultimodal.estimators import MultiInputKerasClassifier

    params = dict(image_filters=(4,), tabular_units=2, epochs=2, batch_size=16, random_state=0)
    params.update(clf_params)
    return Pipeline(
        [
            (
                "prep",
                MultiInputTransformer(
                    [
                        ("image", loader(folder, lazy=lazy), "image"),
                        ("group", OneHotEncoder(sparse_output=False), ["group"]),
                    ]
                ),
            ),
            ("clf", MultiInputKerasClassifier(**params)),
        ]
    )


@pytest.fixture(scope="module")
def fitted_pair(folder, table):
    """In-memory and lazy pipelines fitted identically without shuffling."""
    X, y = table
    eager = make_pipeline(folder, False, shuffle=False).fit(X, y)
    lazy = make_pipeline(folder, True, shuffle=False).fit(X, y)
    return eager, lazy


def test_lazy_fit_equals_in_memory_fit_without_shuffling(fitted_pair, table):
    X, _ = table
    eager, lazy = fitted_pair
    assert lazy[-1].history_["loss"] == eager[-1].history_["loss"]
    assert (
        lazy[-1].input_shapes_ == eager[-1].input_shapes_ == {"image": (16, 16, 3), "group": (3,)}
    )
    # 40 rows: the batched path (3 batches of 16) and the one-batch path.
    np.testing.assert_array_equal(lazy.predict_proba(X), eager.predict_proba(X))
    np.testing.assert_array_equal(lazy.predict_proba(X.iloc[:5]), eager.predict_proba(X.iloc[:5]))
    np.testing.assert_array_equal(lazy.predict(X), eager.predict(X))


@pytest.mark.parametrize(
    "params",
    [{"validation_split": 0.25}, {"early_stopping": True, "patience": 1}],
    ids=["validation_split", "early_stopping"],
)
def test_hold_outs_match_in_memory_mode(folder, table, params):
    X, y = table
    eager = make_pipeline(folder, False, shuffle=False, **params).fit(X, y)
    lazy = make_pipeline(folder, True, shuffle=False, **params).fit(X, y)
    assert lazy[-1].history_["val_loss"] == eager[-1].history_["val_loss"]
    np.testing.assert_array_equal(lazy.predict_proba(X), eager.predict_proba(X))


def test_zero_sample_weights_are_dropped_as_in_memory(folder, table):
    X, y = table
    weights = np.where(np.arange(N_IMAGES) % 5 == 0, 0.0, 1.0)
    eager = make_pipeline(folder, False, shuffle=False).fit(X, y, clf__sample_weight=weights)
    lazy = make_pipeline(folder, True, shuffle=False).fit(X, y, clf__sample_weight=weights)
    np.testing.assert_array_equal(lazy.predict_proba(X), eager.predict_proba(X))


# Shuffled batches of the lazy modes (their own order, not Keras'), three epochs, and a
# random hold-out for early stopping.
SHUFFLED = dict(shuffle=True, epochs=3, early_stopping=True, patience=3)


@pytest.fixture(scope="module")
def shuffled_lazy(folder, table):
    X, y = table
    return make_pipeline(folder, True, **SHUFFLED).fit(X, y)


def test_cache_mode_fit_equals_lazy_fit(folder, table, shuffled_lazy):
    # The later epochs read the cache, and the model must not notice.
    X, y = table
    lazy = shuffled_lazy
    cached = make_pipeline(folder, "cache", **SHUFFLED).fit(X, y)
    assert len(cached[-1].history_["val_loss"]) == 3
    assert cached[-1].history_["val_loss"] == lazy[-1].history_["val_loss"]
    np.testing.assert_array_equal(cached.predict_proba(X), lazy.predict_proba(X))


def test_shuffled_lazy_fit_is_reproducible(folder, table, shuffled_lazy):
    X, y = table
    first = shuffled_lazy
    second = make_pipeline(folder, True, **SHUFFLED).fit(X, y)
    proba = first.predict_proba(X)
    assert proba.shape == (N_IMAGES, 2)
    np.testing.assert_array_equal(proba, second.predict_proba(X))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def test_decode_error_during_fit_is_the_loaders_error(folder, table):
    X, y = table
    broken = X.copy()
    broken.iloc[37, 0] = "corrupt.png"
    with pytest.raises(ValueError, match=r"row 37 \(index 'r37'\): .*corrupt\.png"):
        make_pipeline(folder, True, shuffle=False, epochs=1).fit(broken, y)


def test_decode_error_during_predict_is_the_loaders_error(fitted_pair, table):
    X, _ = table
    broken = X.copy()
    broken.iloc[25, 0] = "corrupt.png"
    _, lazy = fitted_pair
    with pytest.raises(ValueError, match=r"row 25 \(index 'r25'\): .*corrupt\.png"):
        lazy.predict_proba(broken)


def test_fitted_lazy_pipeline_pickles(fitted_pair, table):
    X, _ = table
    _, lazy = fitted_pair
    restored = pickle.loads(pickle.dumps(lazy))
    assert restored.named_steps["prep"].named_transformers_["image"].lazy is True
    np.testing.assert_array_equal(restored.predict_proba(X), lazy.predict_proba(X))


def test_cross_val_score_on_a_dataframe_in_lazy_mode(folder, table):
    X, y = table
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        lazy = cross_val_score(make_pipeline(folder, True, shuffle=False, epochs=1), X, y, cv=2)
    eager = cross_val_score(make_pipeline(folder, False, shuffle=False, epochs=1), X, y, cv=2)
    np.testing.assert_array_equal(lazy, eager)


def test_regressor_accepts_lazy_images(folder, table):
    from skmultimodal.estimators import MultiInputKerasRegressor

    X, y = table
    images = loader(folder, lazy=True).fit_transform(X["image"])
    target = y.astype(float)
    reg = MultiInputKerasRegressor(image_filters=(2,), epochs=1, batch_size=8, random_state=0)
    eager = MultiInputKerasRegressor(image_filters=(2,), epochs=1, batch_size=8, random_state=0)
    reg.fit({"image": images}, target, shuffle=False)
    eager.fit({"image": images.load()}, target, shuffle=False)
    np.testing.assert_array_equal(
        reg.predict({"image": images}), eager.predict({"image": images.load()})
    )


# ------------------------------------------------------------------ the decode cache's file


def deleted_open_files() -> int:
    """Open file descriptors of this process whose file was deleted (unnamed temp files)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").endswith(" (deleted)")
        except OSError:  # closed since listed
            pass
    return count


needs_proc = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd to count open files"
)


@needs_proc
def test_cache_files_are_deleted_after_fits_and_cross_validation(folder, table):
    # TensorFlow keeps the PyDataset of every fit alive; the cache files must not be.
    X, y = table
    before = deleted_open_files()
    pipe = make_pipeline(folder, "cache", shuffle=False, epochs=1)
    for _ in range(2):
        pipe.fit(X, y)
        gc.collect()
        assert deleted_open_files() == before
    cross_val_score(pipe, X, y, cv=3)
    gc.collect()
    assert deleted_open_files() == before
    images = loader(folder, lazy="cache").fit_transform(X["image"])
    MultiInputKerasClassifier(image_filters=(2,), epochs=1, batch_size=16, random_state=0).fit(
        {"image": images}, y
    )
    assert deleted_open_files() == before + 1  # still the caller's
    del images
    gc.collect()
    assert deleted_open_files() == before


@needs_proc
def test_close_deletes_the_cache_file_and_a_later_load_starts_a_new_one(folder, table):
    X, _ = table
    before = deleted_open_files()
    with loader(folder, lazy="cache").fit_transform(X["image"]) as images:
        first = images.load([0, 1])
        assert deleted_open_files() == before + 1
        images.close()
        assert deleted_open_files() == before
        images.close()  # twice is harmless
        np.testing.assert_array_equal(images.load([0, 1]), first)
        assert deleted_open_files() == before + 1
    assert deleted_open_files() == before  # on leaving the with block
    np.testing.assert_array_equal(images.load([1]), first[1:])
    del images
    gc.collect()
    assert deleted_open_files() == before


_TEMPORARY_FILE = tempfile.TemporaryFile  # the real one, kept from the monkeypatching


class FullDisk:
    """A temporary file whose writes fail as on a full disk, after ``ok_writes`` writes."""

    def __init__(self, ok_writes: int = 0, short: bool = False) -> None:
        self._file = _TEMPORARY_FILE(buffering=0)
        self._ok_writes = ok_writes
        self._short = short

    def write(self, data) -> int:
        if self._ok_writes <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._ok_writes -= 1
        data = memoryview(data)
        # A raw write may write only part of what it is given.
        return self._file.write(data[: max(1, len(data) // 3)] if self._short else data)

    def __getattr__(self, name):
        return getattr(self._file, name)


def test_full_disk_in_cache_mode_names_the_cache_its_folder_and_the_remedies(folder, monkeypatch):
    images = loader(folder, lazy="cache").fit_transform(["img_00.png", "img_01.png"])
    monkeypatch.setattr(lazy_module.tempfile, "TemporaryFile", lambda **kwargs: FullDisk())
    with pytest.raises(OSError, match=r"decode cache's temporary file ran out of disk") as info:
        images.load()
    message = str(info.value)
    assert info.value.errno == errno.ENOSPC
    assert repr(tempfile.gettempdir()) in message and "TMPDIR" in message
    assert f"{2 * 16 * 16 * 3} bytes: 2 images of 768 bytes" in message
    assert "lazy=True" in message
    assert isinstance(info.value.__cause__, OSError)
    assert "No space left" in str(info.value.__cause__)


def test_short_writes_of_the_cache_file_are_completed(folder, monkeypatch):
    names = ["img_00.png", "img_01.png", "img_02.png"]
    expected = loader(folder).fit_transform(names)
    monkeypatch.setattr(
        lazy_module.tempfile,
        "TemporaryFile",
        lambda **kwargs: FullDisk(ok_writes=10**6, short=True),
    )
    images = loader(folder, lazy="cache").fit_transform(names)
    np.testing.assert_array_equal(images.load(), expected)
    np.testing.assert_array_equal(images.load([2, 0]), expected[[2, 0]])  # read back


def test_cache_file_that_cannot_be_created_names_the_folder(folder, monkeypatch):
    def refuse(**kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(lazy_module.tempfile, "TemporaryFile", refuse)
    images = loader(folder, lazy="cache").fit_transform(["img_00.png"])
    with pytest.raises(PermissionError, match=r"could not create the decode cache.*TMPDIR"):
        images.load()
