"""ImageEmbedder: pooled backbone features of a column of image paths, cached on disk by
file content and backbone identity."""

import os
import pickle
import shutil

import numpy as np
import pytest
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

keras = pytest.importorskip("keras")

from skmultimodal import ImageEmbedder  # noqa: E402
from skmultimodal.embedding import backbone_images_seen  # noqa: E402


def tiny_backbone(seed=0):
    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(
        5, 3, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed)
    )
    return keras.Model(inputs, conv(inputs))


@pytest.fixture
def images(tmp_path):
    rng = np.random.RandomState(0)
    folder = tmp_path / "images"
    folder.mkdir()
    paths = []
    for i in range(30):
        path = folder / f"{i}.png"
        Image.fromarray(rng.randint(0, 256, (8, 8, 3)).astype("uint8")).save(path)
        paths.append(str(path))
    labels = np.arange(30) % 2
    return paths, labels


def test_embeddings_are_cached_by_content(images, tmp_path):
    paths, _ = images
    cache = tmp_path / "cache"
    embedder = ImageEmbedder(tiny_backbone(), target_size=(8, 8), cache_dir=cache).fit(paths)
    key = embedder.backbone_key_
    start = backbone_images_seen()
    first = embedder.transform(paths)
    assert first.shape == (30, 5) and first.dtype == np.float32
    assert backbone_images_seen() - start == 30
    # Read back from the cache: no backbone pass, the same numbers, fitted state unchanged.
    copy = tmp_path / "renamed.png"
    shutil.copy(paths[3], copy)
    again = embedder.transform([*paths, str(copy)])
    assert backbone_images_seen() - start == 30
    np.testing.assert_array_equal(again[:30], first)
    np.testing.assert_array_equal(again[30], first[3])
    assert embedder.backbone_key_ == key
    # One entry per image, no temporary file left.
    entries = [name for _, _, files in os.walk(cache) for name in files]
    assert len(entries) == 30 and all(name.endswith(".f4") for name in entries)
    assert not any(name.startswith(".tmp") for name in entries)
    # An uncached embedder computes the same embeddings.
    fresh = ImageEmbedder(tiny_backbone(), target_size=(8, 8)).fit(paths)
    np.testing.assert_allclose(fresh.transform(paths), first, rtol=1e-6)


def test_another_backbone_or_an_edited_image_misses_the_cache(images, tmp_path):
    paths, _ = images
    cache = tmp_path / "cache"
    a = ImageEmbedder(tiny_backbone(0), target_size=(8, 8), cache_dir=cache).fit(paths)
    b = ImageEmbedder(tiny_backbone(1), target_size=(8, 8), cache_dir=cache).fit(paths)
    assert a.backbone_key_ != b.backbone_key_
    assert not np.allclose(a.transform(paths[:4]), b.transform(paths[:4]))
    Image.new("RGB", (8, 8), (1, 2, 3)).save(paths[0])
    start = backbone_images_seen()
    a.transform(paths[:4])
    assert backbone_images_seen() - start == 1


def test_search_runs_the_backbone_once_per_image(images, tmp_path):
    paths, y = images
    pipe = make_pipeline(
        ImageEmbedder(tiny_backbone(), target_size=(8, 8), cache_dir=tmp_path / "cache"),
        LogisticRegression(),
    )
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0, 10.0]}, cv=3)
    start = backbone_images_seen()
    search.fit(np.asarray(paths), y)
    assert backbone_images_seen() - start == len(paths)


def test_pickled_embedder_rebuilds_its_backbone(images, tmp_path):
    paths, _ = images
    embedder = ImageEmbedder(tiny_backbone(), target_size=(8, 8)).fit(paths)
    expected = embedder.transform(paths[:5])
    restored = pickle.loads(pickle.dumps(embedder))
    np.testing.assert_allclose(restored.transform(paths[:5]), expected, rtol=1e-6)
    assert restored.get_feature_names_out().tolist()[-1] == "embedding4"


def test_errors_name_the_file_and_the_backbone(images, tmp_path):
    paths, _ = images
    embedder = ImageEmbedder(tiny_backbone(), target_size=(8, 8)).fit(paths)
    with pytest.raises(FileNotFoundError, match="row 1: '.*missing.png'"):
        embedder.transform([paths[0], str(tmp_path / "missing.png")])
    with pytest.raises(ValueError, match="Did you mean 'MobileNetV2'"):
        ImageEmbedder("MobilenetV2").fit(paths)
    with pytest.raises(ValueError, match="'nowhere.weights.h5', which does not exist"):
        ImageEmbedder("MobileNetV2", weights="nowhere.weights.h5").fit(paths)


def test_concurrent_writers_never_expose_a_partial_entry(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from skmultimodal.embedding import _atomic_save, _load_entry

    entry = tmp_path / "ab" / "abcdef.f4"
    vector = np.arange(50_000, dtype=np.float32)

    def write_then_read(_):
        _atomic_save(entry, vector)
        return _load_entry(entry, vector.shape[0])

    with ThreadPoolExecutor(8) as pool:
        read = list(pool.map(write_then_read, range(32)))
    assert all(r is not None and np.array_equal(r, vector) for r in read)
    assert [p.name for p in entry.parent.iterdir()] == ["abcdef.f4"]  # no temporary file
